import math

import torch

import dkd_mm  # noqa: F401  (compat shims before mmrotate)
from dkd_mm.functional import channel_attention, spatial_attention


def _feat() -> torch.Tensor:
    # (N, C, H, W) = (1, 2, 1, 2): channel 0 = [1, -3], channel 1 = [0, 2].
    return torch.tensor([[[[1., -3.]], [[0., 2.]]]])


def test_spatial_attention_known_values():
    # mean_c |F|: cell 0 = (1 + 0) / 2 = 0.5, cell 1 = (3 + 2) / 2 = 2.5;
    # / tau (0.5) -> logits 1, 5; softmax -> 1 / (1 + e^4), e^4 / (1 + e^4);
    # times H * W = 2.
    attn = spatial_attention(_feat(), tau=0.5)
    e4 = math.exp(4)
    expected = torch.tensor([[[[2 / (1 + e4), 2 * e4 / (1 + e4)]]]])
    assert attn.shape == (1, 1, 1, 2)
    torch.testing.assert_close(attn, expected)


def test_channel_attention_known_values():
    # mean_hw |F|: channel 0 = (1 + 3) / 2 = 2, channel 1 = (0 + 2) / 2 = 1;
    # / tau -> logits 4, 2; softmax -> e^2 / (1 + e^2), 1 / (1 + e^2);
    # times C = 2.
    attn = channel_attention(_feat(), tau=0.5)
    e2 = math.exp(2)
    expected = torch.tensor([2 * e2 / (1 + e2), 2 / (1 + e2)])
    assert attn.shape == (1, 2, 1, 1)
    torch.testing.assert_close(attn.flatten(), expected)


def test_attentions_have_mean_one():
    feat = torch.randn(3, 8, 5, 7)
    spatial, channel = spatial_attention(feat), channel_attention(feat)
    torch.testing.assert_close(
        spatial.sum(dim=(1, 2, 3)), torch.full((3, ), 35.))
    torch.testing.assert_close(
        channel.sum(dim=(1, 2, 3)), torch.full((3, ), 8.))
