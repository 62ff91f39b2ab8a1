"""The fixed texts people see, in Telegram HTML (values put in are escaped by the caller)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from bot.prompts import PromptError
from bot.settings import Settings
from bot.telegram.render import escape
from bot.telegram.storage import RETENTION_DAYS

SHIPPED = Path(__file__).resolve().parents[2] / "prompts" / "telegram"

PUBLIC_COMMANDS = (
    ("start", "What this bot is and is not"),
    ("help", "How to ask, and the commands"),
    ("new", "Start a fresh conversation"),
    ("privacy", "What is stored, and for how long"),
    ("forget", "Delete everything stored about you"),
)
ADMIN_COMMANDS = (
    ("reload", "Rebuild the knowledge base from the corpus"),
    ("stats", "People, questions, feedback, index"),
)

PRIVACY_LLM = ("To write answers, your question and the sources found for it are sent "
               "to a language model service run by the operator of this bot.")
PRIVACY_NO_LLM = "Your questions are not sent to any other service."
PRIVACY_VOICE = (" Voice messages are sent there too, to be written out; I keep the text, not "
                 "the recording.")

KNOWLEDGE = "doctors' replies and health reference texts"  # when the caller knows no better

NEW = "🆕 Fresh start: I have forgotten our previous conversation. What would you like to ask?"
FORGOTTEN = ("🗑 Done: I deleted everything stored about you (conversation, feedback, "
             "question counts). You can go on using the bot; /privacy says what is kept.")
NOTHING_TO_FORGET = "🗑 Done: nothing was stored about you."

ONE_MOMENT = ("⏳ One moment, I am still answering your previous message; "
              "I will answer this one next.")
QUEUE_FULL = ("⏳ I am still working on your earlier messages. Please wait for those answers, "
              "then send this one again.")
RATE_LIMITED = ("🙏 You have asked {count} questions in the last minute. Please wait about "
                "{seconds} seconds and ask again.")
TOO_LONG = ("✂️ Your message is {length:,} characters long; I can read up to {limit:,}. "
            "Please shorten it to the main symptoms and questions and send it again.")
CAPTION_ONLY = ("🙂 I cannot see photos or files or listen to recordings, so I answer the text you "
                "wrote with it.")
TEXT_ONLY = ("🙂 I can only read text messages. Please describe your symptoms or your question "
             "in words; I cannot look at photos, voice messages, stickers or files.")
EMPTY = ("🙂 Please write your question after mentioning me, e.g. "
         "{mention} my knee hurts after running.")
NOT_ALLOWED = "🔒 Sorry, this bot is private. Ask its operator for access."
SHUTTING_DOWN = "🔄 I am restarting right now. Please send your question again in a minute."
SORRY = "😔 Sorry, something went wrong on my side while answering. Please try again in a moment."

LATE = "⏳ Sorry for the delay: I was restarted while answering you. Here is my answer."

ADMIN_ONLY = "🔒 Sorry, /{command} is for the bot's operators only."
STATS_SENT_PRIVATELY = "📬 I sent the statistics to you in our private chat."
STATS_PRIVATE_ONLY = ("🔒 The statistics are not for the whole group, and I cannot message you "
                      "privately yet: open a private chat with me, press Start, and send /stats "
                      "there.")
RELOAD_STARTED = ("🔄 Reloading the knowledge base in the background. I keep answering "
                  "meanwhile and will report here when it is done.")
RELOAD_BUSY = "⏳ A reload is already running. I will report its outcome when it finishes."

FEEDBACK_THANKS = {1: "Thanks! Glad it helped.", -1: "Thanks for telling me. Noted."}
FEEDBACK_SAME = "Already noted, thanks."
ANSWER_GONE = "Sorry, I no longer have the details of this answer."
SOURCES_SENT = "Here are the sources."
NOT_YOURS = "Sorry, this button belongs to an answer given to someone else."
BUTTON_UNKNOWN = "Sorry, this button no longer works."

NO_TOKEN = """TELEGRAM_BOT_TOKEN is not set, so the bot cannot connect to Telegram.

To get a token: open Telegram, talk to @BotFather (https://t.me/BotFather), send /newbot,
choose a name and a username, and copy the token it gives you into .env:

    TELEGRAM_BOT_TOKEN=123456789:AA...

Without Telegram you can still try the bot in the terminal: `symptom-bot chat`."""


@dataclass(frozen=True)
class Pages:
    """The long texts (/start, /help, /privacy), read from prompts/telegram/*.html."""

    start: str
    help: str
    privacy: str

    @classmethod
    def load(cls, settings: Settings) -> Pages:
        """From PROMPTS_DIR/telegram when it has them, else the shipped ones."""
        folder = Path(settings.prompts_dir) / "telegram"
        if not (folder / "start.html").exists():
            folder = SHIPPED
        return cls(**{name: (folder / f"{name}.html").read_text(encoding="utf-8").strip()
                      for name in ("start", "help", "privacy")})

    def start_page(self, settings: Settings, disclaimer: str, knowledge: str = "") -> str:
        """/start: what the bot is and is not (and what its knowledge base holds), privacy in
        short, the disclaimer."""
        return self.start.format(turns=settings.history_turns, days=RETENTION_DAYS,
                                 disclaimer=f"<i>{escape(disclaimer)}</i>",
                                 knowledge=escape(knowledge or KNOWLEDGE))

    def help_page(self, mention: str, admin: bool, knowledge: str = "") -> str:
        """/help: how to ask, the buttons and the commands (the admin ones for admins)."""
        commands = PUBLIC_COMMANDS + (ADMIN_COMMANDS if admin else ())
        listing = "\n".join(f"/{name} — {escape(about)}" for name, about in commands)
        return self.help.format(mention=escape(mention), commands=listing,
                                knowledge=escape(knowledge or KNOWLEDGE))

    def privacy_page(self, settings: Settings) -> str:
        """/privacy: what is stored, for how long, and who sees what."""
        llm = PRIVACY_LLM if settings.llm_enabled else PRIVACY_NO_LLM
        if settings.transcription_enabled:
            llm += PRIVACY_VOICE
        return self.privacy.format(turns=settings.history_turns, days=RETENTION_DAYS, llm=llm)


VOICE_FIELDS = {"transcript": ("transcript",), "too_long": ("seconds", "limit"),
                "too_big": ("megabytes",), "empty": ()}


@dataclass(frozen=True)
class VoiceTexts:
    """What people see about their voice messages, read from prompts/telegram/voice.toml."""

    transcript: str  # {transcript}: what was heard, escaped by the caller
    too_long: str  # {seconds}, {limit}
    too_big: str  # {megabytes}
    empty: str

    @classmethod
    def load(cls, settings: Settings) -> VoiceTexts:
        """From PROMPTS_DIR/telegram/voice.toml when it is there, else the shipped one."""
        path = Path(settings.prompts_dir) / "telegram" / "voice.toml"
        if not path.exists():
            path = SHIPPED / "voice.toml"
        try:
            values = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise PromptError(f"prompt file {path} cannot be read: {error}") from error
        for name, fields in VOICE_FIELDS.items():
            text = values.get(name)
            if not isinstance(text, str) or not text.strip():
                raise PromptError(f"prompt file {path} lacks the text {name!r}")
            missing = [f for f in fields if "{" + f + "}" not in text]
            if missing:
                raise PromptError(f"prompt file {path}: {name!r} lacks {missing}")
        return cls(**{name: values[name].strip() for name in VOICE_FIELDS})
