"""MoodBot's Discord face and command line. Imports flow one way: ``bot`` -> ``emotion_core``."""
