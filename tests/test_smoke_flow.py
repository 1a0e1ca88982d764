"""A case from FIR to verdict through the services, on every backend."""

import pytest

from casechain.domain.errors import Refused
from casechain.services import audit, cases, checklist, deficiencies


def test_fir_to_conviction_with_one_return(world):
    ref = world.under_investigation(123)
    with pytest.raises(Refused) as refused:
        world.run(cases.advance, "IO-101", ref, "submit_challan")
    assert any("post_mortem" in r for r in refused.value.reasons)
    world.complete_challan(ref, na_reason="nothing recovered")
    world.run(cases.advance, "IO-101", ref, "submit_challan")
    flagged = world.run(deficiencies.flag, "PP-7", ref, "PMR_MISSING", None)
    assert flagged["reopened"] == "post_mortem"
    world.run(cases.advance, "PP-7", ref, "return_for_deficiencies")
    world.run(deficiencies.respond, "IO-101", ref, flagged["id"], "PMR obtained", "PMR 55/24")
    world.run(checklist.tick, "IO-101", ref, "post_mortem", "PMR 55/24")
    world.run(cases.advance, "IO-101", ref, "resubmit")
    with pytest.raises(Refused):
        world.run(cases.advance, "PP-7", ref, "file_in_court")
    world.run(deficiencies.resolve, "PP-7", ref, flagged["id"])
    world.run(cases.advance, "PP-7", ref, "file_in_court")
    world.run(cases.advance, "PP-7", ref, "record_verdict", outcome="convicted")
    view = world.run(cases.show, ref)
    assert view["state"] == "closed_convicted"
    assert view["round"] == 1
    assert view["version"] == 22
    assert world.run(audit.verify) == {"cases": 1, "events": 22}
