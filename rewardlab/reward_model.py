"""Placeholder: filled by the reward_model reward family."""
