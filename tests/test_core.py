import pickle
import textwrap

import pytest

import rewardlab
from rewardlab.combine import WeightedSum
from rewardlab.describe import describe
from rewardlab.errors import ConfigError, UserRewardError
from rewardlab.registry import route_params
from rewardlab.reward import Reward, Score, component_means
from rewardlab.user import FunctionReward


@pytest.fixture
def user_reward_file(tmp_path):
    path = tmp_path / "my_rewards.py"
    path.write_text(
        textwrap.dedent(
            """
            def shortness(prompts, completions, **kwargs):
                return [1.0 / (1 + len(c)) for c in completions]

            def maybe(prompts, completions, **kwargs):
                return [None if c == "skip" else 1.0 for c in completions]

            def wrong_length(prompts, completions, **kwargs):
                return [1.0]

            def infinite(prompts, completions, **kwargs):
                return [float("inf") for _ in completions]

            from rewardlab import Reward, Score

            class DropsARow(Reward):
                def score(self, prompts, completions, **columns):
                    return [Score(1.0) for _ in completions[1:]]

            class Unnamed(Reward):
                def score(self, prompts, completions, **columns):
                    return [Score(float("nan")) for _ in completions]

            def fails_on_empty(prompts, completions, **kwargs):
                return [1.0 / len(c) for c in completions]

            def says_yes(prompts, completions, **kwargs):
                return ["yes" for _ in completions]

            def make_threshold(cutoff):
                def threshold(prompts, completions, **kwargs):
                    return [float(len(c) > cutoff) for c in completions]
                return threshold
            """
        )
    )
    return path


class Constant(Reward):
    name = "constant"

    def __init__(self, value: float = 1.0) -> None:
        self.value = value

    def score(self, prompts, completions, **columns):
        return [Score(self.value, {"part": self.value / 2}) for _ in completions]


def test_reward_call_follows_trl_convention_and_logs_components():
    logged = []
    values = Constant(0.8)(
        prompts=["p", "q"],
        completions=["a", "b"],
        completion_ids=[[1], [2]],
        trainer_state=object(),
        log_extra=lambda *a: None,
        log_metric=lambda name, value: logged.append((name, value)),
    )
    assert values == [0.8, 0.8]
    assert logged == [("constant/part", 0.4)]


def test_reward_settings_come_from_constructor_arguments():
    assert Constant(0.3).settings() == {"value": 0.3}
    assert repr(Constant(0.3)) == "Constant(value=0.3)"


def test_component_means_skip_undefined_values():
    scores = [Score(1.0, {"a": 1.0}), Score(None, {"a": None}), Score(0.0, {"a": 0.0})]
    assert component_means(scores) == {"a": 0.5}


def test_unknown_reward_lists_known_names_and_the_path_form():
    with pytest.raises(ConfigError, match="known rewards: .*math-format.*module:function"):
        rewardlab.get("no-such-reward")


def test_unknown_parameter_names_what_the_reward_takes():
    with pytest.raises(ConfigError, match="has no parameter 'colour'"):
        rewardlab.get("math-format", colour="blue")


def test_user_reward_from_file_path(user_reward_file):
    reward = rewardlab.get(f"{user_reward_file}:shortness")
    assert reward.__name__ == "shortness"
    assert reward(prompts=["p"], completions=["abc"]) == [0.25]


def test_user_reward_none_means_not_applicable(user_reward_file):
    assert rewardlab.get(f"{user_reward_file}:maybe")(completions=["skip", "x"]) == [None, 1.0]


def test_user_reward_with_parameters_is_a_factory(user_reward_file):
    reward = rewardlab.get(f"{user_reward_file}:make_threshold", cutoff=2)
    assert reward(completions=["ab", "abc"]) == [0.0, 1.0]


def test_user_reward_from_module_path():
    reward = rewardlab.get("rewardlab.text:to_text")
    assert isinstance(reward, FunctionReward)


def test_user_reward_returning_wrong_count_is_an_error(user_reward_file):
    with pytest.raises(rewardlab.RewardlabError, match="returned 1 values for 2 completions"):
        rewardlab.get(f"{user_reward_file}:wrong_length")(completions=["a", "b"])


def test_user_reward_file_pickles_by_spec(user_reward_file):
    reward = rewardlab.get(f"{user_reward_file}:make_threshold", cutoff=1)
    clone = pickle.loads(pickle.dumps(reward))
    assert clone(completions=["a", "abc"]) == [0.0, 1.0]
    assert clone.settings() == {"spec": f"{user_reward_file}:make_threshold", "cutoff": 1}


@pytest.mark.parametrize(
    "spec",
    [
        pytest.param("missing_file.py:f", id="file-not-found"),
        pytest.param("rewardlab.nothing_here:f", id="module-not-found"),
        pytest.param("rewardlab.text:no_such_function", id="attribute-missing"),
        pytest.param(":f", id="no-module"),
    ],
)
def test_bad_user_specs_are_config_errors(spec):
    with pytest.raises(ConfigError):
        rewardlab.get(spec)


def test_weighted_sum_adds_defined_values_like_trl():
    combined = WeightedSum([Constant(1.0), FunctionRewardStub()], weights=[2.0, 0.5])
    scores = combined.score(["p", "p"], ["a", "skip"])
    assert [s.value for s in scores] == [2.5, 2.0]
    assert scores[0].components == {"constant": 1.0, "constant/part": 0.5, "stub": 1.0}


class FunctionRewardStub(Reward):
    name = "stub"

    def score(self, prompts, completions, **columns):
        return [Score(None if c == "skip" else 1.0) for c in completions]


def test_weighted_sum_is_none_only_when_every_reward_is_none():
    combined = WeightedSum([FunctionRewardStub()], weights=[3.0])
    assert combined(completions=["skip", "x"]) == [None, 3.0]


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        pytest.param([1.0], "1 weights given for 2 rewards", id="count"),
        pytest.param([1.0, float("nan")], "finite", id="nan"),
    ],
)
def test_weighted_sum_validates_weights(weights, message):
    with pytest.raises(ConfigError, match=message):
        WeightedSum([Constant(), FunctionRewardStub()], weights)


def test_build_combines_rewards_with_weights():
    reward = rewardlab.build("math-format,math-tags", weights=[1.0, 0.5])
    assert reward.name == "math-format+math-tags"
    assert reward(completions=["no tags at all"]) == [0.0]


def test_route_params_by_prefix_and_by_acceptance():
    routed = route_params({"math-cosine.max_len": 10, "unit": "chars"}, ["math-cosine", "math-format"])
    assert routed == {"math-cosine": {"max_len": 10, "unit": "chars"}, "math-format": {}}


def test_route_params_rejects_a_key_no_reward_takes():
    with pytest.raises(ConfigError, match="no reward of math-format,math-tags has a parameter 'colour'"):
        route_params({"colour": 1}, ["math-format", "math-tags"])


def test_register_refuses_a_second_class_under_one_name():
    with pytest.raises(ValueError, match="already registered"):
        rewardlab.register("math-format")(Constant)


def test_a_user_reward_class_that_drops_a_row_is_an_error(user_reward_file):
    with pytest.raises(rewardlab.RewardlabError, match="returned 1 values for 2 completions"):
        rewardlab.get(f"{user_reward_file}:DropsARow")(completions=["a", "b"])


def test_an_infinite_reward_is_an_error_not_a_training_signal(user_reward_file):
    with pytest.raises(rewardlab.RewardlabError, match="finite"):
        rewardlab.get(f"{user_reward_file}:infinite")(completions=["a"])


def test_an_unregistered_user_class_is_named_after_its_attribute_and_nan_is_none(user_reward_file):
    reward = rewardlab.get(f"{user_reward_file}:Unnamed")
    assert reward.name == "Unnamed"
    assert reward(completions=["a"]) == [None]


def test_a_mistyped_reward_name_suggests_the_closest():
    with pytest.raises(ConfigError, match=r"unknown reward 'engagment' \(did you mean 'engagement'\?\)"):
        rewardlab.get("engagment")


def test_a_mistyped_parameter_suggests_the_closest():
    with pytest.raises(ConfigError, match=r"no parameter 'max_lenght' \(did you mean 'max_length'\?\)"):
        rewardlab.get("overlong", max_lenght=1024)


def test_a_user_reward_that_raises_names_itself_the_row_and_the_exception(user_reward_file):
    reward = FunctionReward(f"{user_reward_file}:fails_on_empty")
    with pytest.raises(
        UserRewardError, match="fails_on_empty' raised ZeroDivisionError: float division by zero"
    ) as info:
        reward.score(["p"] * 3, ["ab", "c", ""])
    assert info.value.index == 2
    assert isinstance(info.value.__cause__, ZeroDivisionError)


def test_a_user_reward_returning_text_names_the_row(user_reward_file):
    with pytest.raises(UserRewardError, match="returned 'yes', not a number or None") as info:
        FunctionReward(f"{user_reward_file}:says_yes").score(["p"], ["c"])
    assert info.value.index == 0


def test_describe_reads_parameters_types_defaults_and_example_from_the_class():
    help = describe("math-cosine")
    max_len = next(p for p in help.parameters if p.name == "max_len")
    assert (max_len.type, max_len.default) == ("int", "1000")
    assert max_len.help.startswith("Length (tokens or characters")
    assert help.columns == ["solution"]
    assert help.example.startswith(">>> reward = MathCosine(max_len=60)")
    assert help.summary.startswith("Cosine length scaling of correctness")


def test_overlong_cache_defaults_to_a_fifth_of_max_length():
    assert rewardlab.get("overlong", max_length=1024).cache == 204
    assert rewardlab.get("overlong").cache == 4096
