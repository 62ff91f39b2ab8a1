"""The fake OpenAI server behaves like the real API for langchain_openai and the openai client."""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import AsyncIterator, Callable

import openai
import pytest
from langchain_core.messages import HumanMessage, SystemMessage
from langchain_openai import ChatOpenAI

from tests.fakes.openai_server import FakeOpenAI, fake_embedding, split_words

REPLY = "Rest, fluids and paracetamol usually help [1]."
MESSAGES = [SystemMessage("You are a careful doctor."), HumanMessage("I have a fever of 38.5")]


def chat(llm: FakeOpenAI, **kwargs: object) -> ChatOpenAI:
    """A real ChatOpenAI pointed at the fake."""
    return ChatOpenAI(model="gpt-test", base_url=llm.base_url, api_key="test", **kwargs)


MakeClient = Callable[..., openai.AsyncOpenAI]


@pytest.fixture
async def client() -> AsyncIterator[MakeClient]:
    """Makes real AsyncOpenAI clients pointed at a fake, and closes them after the test."""
    made: list[openai.AsyncOpenAI] = []

    def make(llm: FakeOpenAI, **kwargs: object) -> openai.AsyncOpenAI:
        made.append(openai.AsyncOpenAI(base_url=llm.base_url, api_key="test", **kwargs))
        return made[-1]

    yield make
    for api in made:
        await api.close()


async def test_ainvoke_answers_and_records_the_request() -> None:
    async with FakeOpenAI(REPLY) as llm:
        answer = await chat(llm, max_retries=0).ainvoke(MESSAGES)
        assert answer.content == REPLY
        assert answer.usage_metadata["output_tokens"] == len(split_words(REPLY))
        assert answer.response_metadata["model_name"] == "gpt-test"
        assert llm.chat_calls == 1
        assert llm.last_messages() == [
            {"role": "system", "content": "You are a careful doctor."},
            {"role": "user", "content": "I have a fever of 38.5"},
        ]
        assert "fever of 38.5" in llm.last_prompt()
        assert llm.requests[-1].authorization == "Bearer test"
        assert llm.requests[-1].headers["authorization"] == "Bearer test"
        assert llm.chat_requests[-1]["model"] == "gpt-test"


async def test_astream_yields_chunks_in_order() -> None:
    async with FakeOpenAI(REPLY, chunk_delay=0.01) as llm:
        pieces = [c.content async for c in chat(llm, max_retries=0).astream(MESSAGES)]
        texts = [p for p in pieces if p]
        assert texts == split_words(REPLY)
        assert len(texts) >= 5
        assert "".join(texts) == REPLY
        assert llm.chat_requests[-1]["stream"] is True


async def test_langchain_stream_usage_reads_the_usage_chunk() -> None:
    async with FakeOpenAI(REPLY) as llm:
        total = None
        async for piece in chat(llm, stream_usage=True).astream(MESSAGES):
            total = piece if total is None else total + piece
        assert total.content == REPLY
        assert total.usage_metadata["output_tokens"] == len(split_words(REPLY))
        assert llm.chat_requests[-1]["stream_options"] == {"include_usage": True}


async def test_raw_stream_is_in_openai_chunk_format(client: MakeClient) -> None:
    async with FakeOpenAI("one two three") as llm:
        stream = await client(llm).chat.completions.create(
            model="m",
            messages=[{"role": "user", "content": "hi"}],
            stream=True,
            stream_options={"include_usage": True},
        )
        chunks = [c async for c in stream]
    assert all(c.object == "chat.completion.chunk" and c.model == "m" for c in chunks)
    assert chunks[0].choices[0].delta.role == "assistant"
    assert [c.choices[0].delta.content for c in chunks[1:4]] == ["one ", "two ", "three"]
    assert chunks[4].choices[0].finish_reason == "stop"
    assert chunks[5].choices == [] and chunks[5].usage.completion_tokens == 3
    assert len({c.id for c in chunks}) == 1


async def test_stream_without_include_usage_has_no_usage_chunk(client: MakeClient) -> None:
    async with FakeOpenAI("a b") as llm:
        stream = await client(llm).chat.completions.create(
            model="m", messages=[{"role": "user", "content": "hi"}], stream=True
        )
        chunks = [c async for c in stream]
    assert len(chunks) == 4 and all(c.choices and c.usage is None for c in chunks)


async def test_callable_and_list_responders() -> None:
    def cite(request: dict) -> str:
        prompt = request["messages"][-1]["content"]
        return "See [1]." if "[1]" in prompt else "No sources."

    async with FakeOpenAI(cite) as llm:
        model = chat(llm, max_retries=0)
        assert (await model.ainvoke("Sources: [1] rest")).content == "See [1]."
        assert (await model.ainvoke("no sources")).content == "No sources."
        llm.reply = ["first", "second"]
        assert [(await model.ainvoke("q")).content for _ in range(2)] == ["first", "second"]
        with pytest.raises(openai.InternalServerError, match="used up"):
            await chat(llm, max_retries=3).ainvoke("q")  # x-should-retry: false, no retries
        assert llm.chat_calls == 5


@pytest.mark.parametrize(
    ("status", "error", "code"),
    [
        (500, openai.InternalServerError, None),
        (429, openai.RateLimitError, "rate_limit_exceeded"),
        (503, openai.InternalServerError, "service_unavailable"),
    ],
)
async def test_injected_errors_surface_as_openai_exceptions(
    status: int, error: type[Exception], code: str | None
) -> None:
    async with FakeOpenAI(REPLY) as llm:
        llm.fail_next(status)
        with pytest.raises(error) as caught:
            await chat(llm, max_retries=0).ainvoke(MESSAGES)
        assert caught.value.status_code == status
        assert caught.value.code == code
        assert (await chat(llm, max_retries=0).ainvoke(MESSAGES)).content == REPLY


async def test_one_retry_gets_past_one_failure(client: MakeClient) -> None:
    async with FakeOpenAI(REPLY) as llm:
        llm.fail_next(500, count=1, retry_after=0.01)
        assert (await chat(llm, max_retries=1).ainvoke(MESSAGES)).content == REPLY
        assert llm.chat_calls == 2
        llm.fail_next(429, count=2, retry_after=0.01)
        with pytest.raises(openai.RateLimitError):
            await client(llm, max_retries=1).chat.completions.create(model="m", messages=[])
        assert llm.chat_calls == 4


async def test_retry_after_is_sent_and_honoured(client: MakeClient) -> None:
    async with FakeOpenAI(REPLY) as llm:
        llm.fail_next(429, retry_after=0.3)
        started = time.monotonic()
        await client(llm, max_retries=1).chat.completions.create(model="m", messages=[])
        assert 0.28 <= time.monotonic() - started < 2


async def test_hang_times_out_and_does_not_block_shutdown(client: MakeClient) -> None:
    llm = await FakeOpenAI(REPLY).start()
    llm.hang = True
    started = time.monotonic()
    with pytest.raises(openai.APITimeoutError):
        await client(llm, max_retries=0, timeout=0.5).chat.completions.create(
            model="m", messages=[{"role": "user", "content": "hi"}]
        )
    assert 0.45 <= time.monotonic() - started < 1.5
    pending = asyncio.ensure_future(chat(llm, max_retries=0).ainvoke("still waiting"))
    await asyncio.sleep(0.1)
    started = time.monotonic()
    await llm.stop()
    assert time.monotonic() - started < 1.0
    with pytest.raises(openai.OpenAIError):
        await pending


async def test_delay_slows_the_answer() -> None:
    async with FakeOpenAI(REPLY, delay=0.3) as llm:
        started = time.monotonic()
        await chat(llm).ainvoke(MESSAGES)
        assert time.monotonic() - started >= 0.29


async def test_cut_off_stream_raises_after_the_first_chunks() -> None:
    async with FakeOpenAI("one two three four") as llm:
        llm.cut_off_after = 2
        received = []
        with pytest.raises(openai.APIConnectionError):
            async for piece in chat(llm, max_retries=0).astream("hi"):
                received.append(piece.content)
        assert [r for r in received if r] == ["one ", "two "]


async def test_malformed_json_breaks_the_client(client: MakeClient) -> None:
    async with FakeOpenAI(REPLY) as llm:
        llm.malformed = True
        with pytest.raises(ValueError):
            await client(llm, max_retries=0).chat.completions.create(model="m", messages=[])
        with pytest.raises(ValueError):
            async for _ in chat(llm, max_retries=0).astream("hi"):
                pass


async def test_api_key_is_checked_when_set() -> None:
    async with FakeOpenAI(REPLY, api_key="sk-right") as llm:
        with pytest.raises(openai.AuthenticationError):
            await chat(llm, max_retries=0).ainvoke("hi")
        good = ChatOpenAI(model="m", base_url=llm.base_url, api_key="sk-right", max_retries=0)
        assert (await good.ainvoke("hi")).content == REPLY


async def test_embeddings_are_deterministic_unit_vectors(client: MakeClient) -> None:
    texts = [
        "fever and headache",
        "headache and fever",
        "fever and a headache",
        "broken ankle after a fall",
    ]
    async with FakeOpenAI() as llm:
        api = client(llm, max_retries=0)
        got = await api.embeddings.create(model="text-embedding-test", input=texts)
        floats = await api.embeddings.create(model="e", input=texts[0], encoding_format="float")
        small = await api.embeddings.create(model="e", input="x", dimensions=4)
        assert got.model == "text-embedding-test" and len(got.data) == 4
        vectors = [d.embedding for d in got.data]
        assert all(
            len(v) == 8 and math.isclose(sum(x * x for x in v), 1, rel_tol=1e-5) for v in vectors
        )
        assert vectors[0] == pytest.approx(vectors[1])  # same bag of words
        assert floats.data[0].embedding == pytest.approx(vectors[0], abs=1e-6)
        assert floats.data[0].embedding == fake_embedding(texts[0])

        def cos(a: list[float], b: list[float]) -> float:
            return sum(x * y for x, y in zip(a, b, strict=True))

        assert cos(vectors[0], vectors[2]) > cos(vectors[0], vectors[3])
        assert len(small.data[0].embedding) == 4
        assert len(llm.embedding_requests) == 3
        assert llm.embedding_requests[0]["input"] == texts
        llm.fail_next(503, endpoint="embeddings")
        with pytest.raises(openai.InternalServerError):
            await api.embeddings.create(model="e", input="x")


AUDIO = bytes(range(256)) * 4 + b"\r\n--boundary-lookalike\r\n\r\n"  # every byte value


async def test_transcriptions_receive_the_file_and_answer_the_transcript(
        client: MakeClient) -> None:
    async with FakeOpenAI() as llm:
        api = client(llm, max_retries=0)
        llm.transcript = ["my knee hurts", "and it is swollen"]
        first = await api.audio.transcriptions.create(
            model="whisper-test", file=("voice.ogg", AUDIO, "audio/ogg"))
        plain = await api.audio.transcriptions.create(
            model="whisper-test", file=("a.mp3", b"ID3", "audio/mpeg"), response_format="text")
        llm.transcript = lambda form: f"{form['model']} heard {len(form['file']['data'])} bytes"
        verbose = await api.audio.transcriptions.create(
            model="m", file=("v.wav", b"RIFF"), response_format="verbose_json")
        [form, *_] = llm.transcription_requests
    assert first.text == "my knee hurts"
    assert plain.strip() == "and it is swollen"
    assert verbose.text == "m heard 4 bytes" and verbose.language == "english"
    assert form["model"] == "whisper-test"
    assert form["file"] == {"filename": "voice.ogg", "content_type": "audio/ogg", "data": AUDIO}
    assert len(llm.transcription_requests) == 3 and llm.chat_calls == 0


async def test_transcriptions_refuse_what_openai_refuses(client: MakeClient) -> None:
    async with FakeOpenAI() as llm:
        api = client(llm, max_retries=0)
        with pytest.raises(openai.BadRequestError, match="Invalid file format"):
            await api.audio.transcriptions.create(model="m", file=("voice.oga", b"OggS"))
        with pytest.raises(openai.BadRequestError, match="model"):
            await api.audio.transcriptions.create(model="", file=("voice.ogg", b"OggS"))
        llm.fail_next(500, endpoint="transcriptions")
        with pytest.raises(openai.InternalServerError):
            await api.audio.transcriptions.create(model="m", file=("voice.ogg", b"OggS"))
        assert (await api.audio.transcriptions.create(
            model="m", file=("voice.ogg", b"OggS"))).text == "This is a fake transcript."
        llm.audio_endpoint = False  # a server that offers chat only
        with pytest.raises(openai.NotFoundError):
            await api.audio.transcriptions.create(model="m", file=("voice.ogg", b"OggS"))
        assert llm.chat_calls == 0 and len(llm.transcription_requests) == 5


async def test_a_hanging_transcription_times_out_and_does_not_block_shutdown(
        client: MakeClient) -> None:
    llm = await FakeOpenAI().start()
    llm.transcription_hang = True
    started = time.monotonic()
    with pytest.raises(openai.APITimeoutError):
        await client(llm, max_retries=0, timeout=0.5).audio.transcriptions.create(
            model="m", file=("voice.ogg", b"OggS"))
    assert 0.45 <= time.monotonic() - started < 1.5
    started = time.monotonic()
    await llm.stop()
    assert time.monotonic() - started < 1.0


async def test_models_are_listed(client: MakeClient) -> None:
    async with FakeOpenAI(model="fake-gpt") as llm:
        models = [m.id async for m in client(llm).models.list()]
    assert "fake-gpt" in models


def test_thread_mode_serves_sync_clients() -> None:
    with contextlib.ExitStack() as stack, FakeOpenAI.start_in_thread(REPLY) as llm:
        sync = openai.OpenAI(base_url=llm.base_url, api_key="test", max_retries=0)
        stack.callback(sync.close)
        messages = [{"role": "user", "content": "q"}]
        answer = sync.chat.completions.create(model="m", messages=messages)
        assert answer.choices[0].message.content == REPLY
        llm.reply = "changed from the test thread"
        assert chat(llm.fake).invoke("q").content == "changed from the test thread"
        assert llm.chat_calls == 2
        assert llm.env()["OPENAI_BASE_URL"] == llm.base_url
        llm.hang = True
        with pytest.raises(openai.APITimeoutError):
            sync.with_options(timeout=0.3).chat.completions.create(model="m", messages=[])
        started = time.monotonic()
    assert time.monotonic() - started < 2
