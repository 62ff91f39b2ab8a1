"""symptom-bot: answers symptom questions with what real doctors replied to similar questions."""

__version__ = "0.1.0"
