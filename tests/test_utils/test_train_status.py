import uuid

import pytest
from mmengine.logging import MessageHub

import dkd_mm  # noqa: F401
from dkd_mm.utils.train_status import current_train_status


@pytest.fixture
def new_hub():
    """Makes a new message hub, the current one, with the given info."""

    def make(**info):
        # get_instance makes a hub of a new name the current one.
        hub = MessageHub.get_instance(f'test_train_status_{uuid.uuid4()}')
        for key, value in info.items():
            hub.update_info(key, value)
        return hub

    yield make
    make()  # a fresh, empty hub is current after the test


def test_current_train_status_from_message_hub(new_hub):
    new_hub(**{'dkd/train_status': 0.3, 'iter': 10, 'max_iters': 100})
    assert current_train_status() == pytest.approx(0.3)
    new_hub(iter=25, max_iters=100)
    assert current_train_status() == pytest.approx(0.25)
    new_hub(iter=25)
    assert current_train_status() == 0.0
    new_hub(**{'dkd/train_status': 1.7})
    assert current_train_status() == 1.0
