import pytest
from mmengine.logging import MessageHub

import dkd_mm  # noqa: F401
from dkd_mm.utils.train_status import current_train_status


@pytest.fixture
def new_hub():
    names = []

    def make(**info):
        name = f'test_hardness_{len(names)}_{id(names)}'
        names.append(name)
        hub = MessageHub.get_instance(name)
        for key, value in info.items():
            hub.update_info(key, value)
        return hub

    yield make
    for name in names:
        MessageHub._instance_dict.pop(name, None)


def test_current_train_status_from_message_hub(new_hub):
    new_hub(**{'dkd/train_status': 0.3, 'iter': 10, 'max_iters': 100})
    assert current_train_status() == pytest.approx(0.3)
    new_hub(iter=25, max_iters=100)
    assert current_train_status() == pytest.approx(0.25)
    new_hub(iter=25)
    assert current_train_status() == 0.0
    new_hub(**{'dkd/train_status': 1.7})
    assert current_train_status() == 1.0
