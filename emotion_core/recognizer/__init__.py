"""Speech emotion recognition: config, network, inference, training, evaluation, model card."""
