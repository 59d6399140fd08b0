"""Speech synthesis: text front end, Tacotron 2, vocoders, the offline voice, emotion prosody, pipeline."""
