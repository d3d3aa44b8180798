import pytest

from rewardlab.text import prompt_text, split_think, strip_think, to_text


@pytest.mark.parametrize(
    ("text", "think", "answer"),
    [
        pytest.param("<think>a</think>b", "a", "b", id="full-block"),
        pytest.param("plan</think>\nreply", "plan", "\nreply", id="prefilled-open-tag"),
        pytest.param("<think>cut off mid-thou", "cut off mid-thou", "", id="unclosed-block"),
        pytest.param("just a reply", "", "just a reply", id="no-think"),
        pytest.param("<think>x</think>y</think>z", "x</think>y", "z", id="answer-after-last-close"),
    ],
)
def test_split_think_handles_every_qwen3_shape(text, think, answer):
    assert split_think(text) == (think, answer)


def test_strip_think_drops_reasoning_and_whitespace():
    assert strip_think("<think>\nlong reasoning\n</think>\n\nFinal.") == "Final."


def test_to_text_joins_chat_messages_and_typed_parts():
    messages = [
        {"role": "assistant", "content": "one"},
        {"role": "assistant", "content": [{"type": "text", "text": "two"}, {"type": "image"}]},
    ]
    assert to_text(messages) == "one\ntwo"


def test_to_text_rejects_other_types():
    with pytest.raises(TypeError, match="string or a list of chat messages"):
        to_text(42)


def test_prompt_text_takes_the_last_user_message():
    chat = [
        {"role": "system", "content": "s"},
        {"role": "user", "content": "first"},
        {"role": "assistant", "content": "a"},
        {"role": "user", "content": "second"},
    ]
    assert prompt_text(chat) == "second"
    assert prompt_text("plain post") == "plain post"
