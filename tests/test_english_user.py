"""An English-speaking user going through a pre-screening, typing as an English speaker would."""
from __future__ import annotations

import pytest

from tests.test_dialog import Chat, conversation  # noqa: F401  (the fixture)


def english_chat(conversation) -> Chat:  # noqa: F811
    chat = Chat(conversation)
    chat.say("/lang en")
    chat.say("/new Oak Park")
    chat.say("national")
    return chat


@pytest.mark.parametrize("typed", ["skip", "Skip", "don't know", "Don’t know.", "not sure", "I don't know"])
def test_english_words_for_skip_skip_as_skip_does(conversation, typed):  # noqa: F811
    chat = english_chat(conversation)
    assert chat.current_fact() == "county_level"
    text = chat.say(typed)
    assert "Skipped: The cluster lies within one county-level division" in text
    assert chat.current_fact() != "county_level"


def test_a_name_beginning_with_skip_is_a_name(conversation):  # noqa: F811
    chat = Chat(conversation)
    chat.say("/lang en")
    chat.say("/new")
    chat.say("Skip Valley Park")
    assert "Skip Valley Park" in chat.say("/list")
