"""A case from FIR to verdict through the services, on every backend."""

from casechain.domain.errors import Refused
from casechain.services import audit, cases, checklist, deficiencies

import pytest

CHALLAN_ITEMS = ["fir_copy", "site_plan", "statements_161", "post_mortem", "forensic_report", "arrest_status", "witness_list", "case_diary"]


def test_fir_to_conviction_with_one_return(world):
    ref = world.register(123)
    world.run(cases.assign, "SHO-1", ref, "IO-101")
    world.run(cases.advance, "IO-101", ref, "start_investigation")
    with pytest.raises(Refused) as refused:
        world.run(cases.advance, "IO-101", ref, "submit_challan")
    assert any("post_mortem" in r for r in refused.value.reasons)
    for item in CHALLAN_ITEMS:
        world.run(checklist.tick, "IO-101", ref, item, f"ref {item}")
    for item in ("recovery_memos", "case_property"):
        world.run(checklist.not_applicable, "IO-101", ref, item, "nothing recovered")
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
