"""The contamination rules: exact and word 8-gram near duplicates between eval questions and user turns."""

from ladder_core.overlap import find_overlap, normalise, user_turns

LONG_Q = "How many vacation days can a new employee carry over into the next calendar year at most?"


def test_normalise_folds_case_punctuation_and_space():
    assert normalise("  How MANY   days?!  ") == "how many days"
    assert normalise("ﬁle") == "file"  # NFKC ligature


def test_exact_match_after_normalisation():
    found = find_overlap(
        [("q1", "What is the VPN address?"), ("q2", "Who signs expenses?")],
        ["what is the vpn address", "unrelated"],
    )
    assert found.exact == ("q1",)
    assert found.near == ()
    assert found.to_dict() == {"exact": 1, "near": 0, "ids": ["q1"]}
    assert not found.clean


def test_near_duplicate_by_half_the_8grams():
    turn = "Quick question: how many vacation days can a new employee carry over into the next year?"
    found = find_overlap([("q1", LONG_Q)], [turn])
    assert found.near == ("q1",)
    assert found.details["q1"] >= 0.5


def test_below_threshold_is_clean():
    turn = "How many vacation days do managers get, and where do I request them in the portal?"
    found = find_overlap([("q1", LONG_Q)], [turn])
    assert found.clean
    assert "none of 1 evaluation questions" in found.describe()


def test_short_question_must_occur_whole_inside_a_turn():
    assert find_overlap([("s", "Who approves travel?")], ["Tell me who approves travel? Thanks"]).near == (
        "s",
    )
    assert find_overlap([("s", "Who approves travel?")], ["Who approves expenses?"]).clean


def test_describe_names_the_items_to_remove():
    found = find_overlap([("a", "x y z"), ("b", LONG_Q)], ["x y z", LONG_Q.upper()])
    assert found.ids == ("a", "b")
    assert "a, b" in found.describe()


def test_user_turns_reads_strings_and_text_blocks():
    record = {
        "messages": [
            {"role": "system", "content": "s"},
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": "a"},
            {"role": "user", "content": [{"text": "one"}, {"text": "two"}]},
        ]
    }
    assert user_turns(record) == ["hi", "one two"]
