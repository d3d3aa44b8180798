"""The reward-model reward, on a tiny random Qwen3 sequence classifier built here (no download)."""

import pickle
from pathlib import Path

import pytest

import rewardlab
from rewardlab.errors import RowError
from rewardlab.rewards.reward_model import RewardModel

WORDS = "what is two plus four the answer a cat sat on mat hello world say hi please yes no".split()
SPECIALS = ["[UNK]", "[PAD]", "<|user|>", "<|assistant|>", "<|end|>"]
CHAT_TEMPLATE = "{% for m in messages %}<|{{ m['role'] }}|> {{ m['content'] }} <|end|> {% endfor %}"


def build_tiny_reward_model(out: Path, chat_template: bool = True, num_labels: int = 1) -> Path:
    """Save a random one-layer Qwen3ForSequenceClassification and a word-level tokenizer to ``out``."""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast, Qwen3Config, Qwen3ForSequenceClassification

    vocab = {token: i for i, token in enumerate(SPECIALS + WORDS)}
    backend = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend, unk_token="[UNK]", pad_token="[PAD]", additional_special_tokens=SPECIALS[2:]
    )
    if chat_template:
        tokenizer.chat_template = CHAT_TEMPLATE
    tokenizer.save_pretrained(out)
    config = Qwen3Config(
        vocab_size=len(vocab),
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=1,
        head_dim=8,
        max_position_embeddings=256,
        num_labels=num_labels,
        pad_token_id=vocab["[PAD]"],
    )
    torch.manual_seed(0)
    Qwen3ForSequenceClassification(config).save_pretrained(out)
    return out


@pytest.fixture(scope="module")
def chat_model(tmp_path_factory):
    return str(build_tiny_reward_model(tmp_path_factory.mktemp("rm-chat")))


@pytest.fixture(scope="module")
def plain_model(tmp_path_factory):
    return str(build_tiny_reward_model(tmp_path_factory.mktemp("rm-plain"), chat_template=False))


PROMPTS = ["what is two plus two", "say hello", "what is two plus two", "a cat sat on the mat"]
COMPLETIONS = ["four", "hello world hello world please", "the answer is four", "yes"]


def test_returns_one_float_per_completion(chat_model):
    values = rewardlab.get("reward-model", model=chat_model)(PROMPTS, COMPLETIONS)
    assert len(values) == len(COMPLETIONS)
    assert all(isinstance(v, float) for v in values)
    assert len(set(values)) > 1


def test_batching_and_padding_do_not_change_scores(chat_model):
    batched = RewardModel(chat_model, batch_size=4)(PROMPTS, COMPLETIONS)
    one_by_one = [
        RewardModel(chat_model, batch_size=1)([p], [c])[0] for p, c in zip(PROMPTS, COMPLETIONS, strict=True)
    ]
    assert batched == pytest.approx(one_by_one, abs=1e-5)


def test_prompt_and_completion_go_through_the_chat_template(chat_model):
    text = RewardModel(chat_model).text("say hi", "hello")
    assert text == "<|user|> say hi <|end|> <|assistant|> hello <|end|> "


def test_chat_message_prompts_are_kept_as_messages(chat_model):
    prompt = [{"role": "system", "content": "please"}, {"role": "user", "content": "say hi"}]
    completion = [{"role": "assistant", "content": "hello"}]
    text = RewardModel(chat_model).text(prompt, completion)
    assert text == "<|system|> please <|end|> <|user|> say hi <|end|> <|assistant|> hello <|end|> "


def test_without_a_chat_template_prompt_and_completion_are_joined(plain_model):
    reward = RewardModel(plain_model)
    assert reward.text("say hi", "hello") == "say hi\nhello"
    assert reward.text("", "hello") == "hello"
    assert len(reward(["say hi"], ["hello"])) == 1


def test_think_blocks_are_removed_before_scoring(chat_model):
    reward = RewardModel(chat_model)
    assert reward(["say hi"], ["<think>\nwhat to say\n</think>\nhello"]) == reward(["say hi"], ["hello"])


def test_pickles_without_the_model_and_scores_the_same(chat_model):
    reward = RewardModel(chat_model)
    before = reward(PROMPTS, COMPLETIONS)
    data = pickle.dumps(reward)
    assert len(data) < 2000
    assert pickle.loads(data)(PROMPTS, COMPLETIONS) == pytest.approx(before)


def test_a_model_with_two_labels_is_refused(tmp_path):
    path = build_tiny_reward_model(tmp_path, num_labels=2)
    with pytest.raises(rewardlab.ConfigError, match="2 labels"):
        rewardlab.get("reward-model", model=str(path))


def test_a_missing_model_is_a_config_error(tmp_path):
    with pytest.raises(rewardlab.ConfigError, match="cannot load"):
        rewardlab.get("reward-model", model=str(tmp_path / "nowhere"))


def test_a_completion_of_the_wrong_type_names_its_row(chat_model):
    with pytest.raises(RowError) as error:
        RewardModel(chat_model)(["say hi", "say hi"], ["hello", 42])
    assert (error.value.index, error.value.field) == (1, "completion")
