"""MoodBot's emotion core: audio in, features, recognition, training and synthesis. Never imports discord.

The public API is listed once, in ``__init__.pyi`` (what type checkers and editors read), and loaded
lazily from it with ``lazy_loader`` (as librosa and scikit-image do), so ``import emotion_core`` stays
instant and only the parts used pull in ONNX Runtime, TensorFlow (training) or torch (Tacotron 2)::

    from emotion_core import EmotionRecognizer, decode
    result = EmotionRecognizer.from_pretrained().analyze("voice-message.ogg")
"""

import lazy_loader

__getattr__, __dir__, __all__ = lazy_loader.attach_stub(__name__, __file__)
