"""Who sees which mailbox: one's own; a manager their team's; an admin all."""

import pytest

from cadence.mailboxes.selectors import mailbox_list
from cadence.mailboxes.tests.test_services import stored_mailbox

pytestmark = pytest.mark.django_db


def test_mailbox_list_by_role(rep, teammate, manager, outsider, other_manager, admin_user):
    boxes = {user.username: stored_mailbox(user).pk for user in (rep, teammate, outsider)}
    seen = {
        viewer.username: set(mailbox_list(viewer=viewer).values_list("pk", flat=True))
        for viewer in (rep, manager, other_manager, admin_user)
    }
    assert seen[rep.username] == {boxes[rep.username]}
    assert seen[manager.username] == {boxes[rep.username], boxes[teammate.username]}
    assert seen[other_manager.username] == {boxes[outsider.username]}
    assert seen[admin_user.username] == set(boxes.values())
