"""sandbox.emulators.x_query: the X search-query matcher behind the emulator's recent search."""

from __future__ import annotations

import pytest

from sandbox.emulators.x_query import QueryError, Searchable, compile_query


def test_query_matcher_rules() -> None:
    tweet = Searchable("Acme Corp: my #acme kettle, cc @AcmeHelp", "bob", "en")
    assert compile_query("acme")(tweet) and compile_query("#acme")(tweet) and compile_query("@acmehelp")(tweet)
    assert not compile_query('"corp acme"')(tweet) and compile_query('"acme corp"')(tweet)
    assert compile_query("kettle -(rival OR toaster)")(tweet) and not compile_query("kettle -(rival OR acme)")(tweet)
    assert not compile_query("acm")(tweet)  # whole words only
    for bad in ("(acme", "acme)", "-acme", "acme OR", "place_country:US"):
        with pytest.raises(QueryError):
            compile_query(bad)
