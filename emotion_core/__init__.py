"""MoodBot's emotion core: audio in, features, recognition, training and synthesis. Never imports discord."""
