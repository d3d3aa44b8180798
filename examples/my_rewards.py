"""A reward of your own, as ``rewardlab score --reward examples/my_rewards.py:brevity`` and TRL take it."""


def brevity(prompts, completions, **columns):
    """1.0 for a reply of up to 20 words, falling linearly to 0.0 at 60 words (chat messages: the last one)."""
    texts = [c if isinstance(c, str) else c[-1]["content"] for c in completions]
    return [min(1.0, max(0.0, (60 - len(text.split())) / 40)) for text in texts]
