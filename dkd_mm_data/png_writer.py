"""Uncompressed ("stored") PNG files, for the DOTA splitter's patches.

Compressing is most of the cost of splitting: OpenCV's fastest PNG setting
(its default, which mmrotate's splitter uses) spends about 30 ms on a
1024 px colour patch, deflate's Huffman coding of 3 MiB; storing the rows
takes about a third of that, for files about twice as large (3 MiB for
1024 x 1024 x 3).  The pixels are the same either way (PNG is lossless);
any PNG reader (OpenCV, Pillow, mmcv) decodes these files, and decodes
them faster than compressed ones.

The file: the PNG signature, an ``IHDR`` chunk (8-bit grey or RGB, no
interlace), one ``IDAT`` chunk holding a zlib stream of stored blocks of
the rows, each row led by filter type 0 (none), and ``IEND``
(PNG specification, ISO/IEC 15948, sections 5, 9, 10 and 11).
"""
import struct
import zlib
from typing import List

import cv2
import numpy as np

PNG_SIGNATURE = b'\x89PNG\r\n\x1a\n'
GREY, RGB = 0, 2  # PNG colour types


def _chunk(kind: bytes, data: bytes) -> List[bytes]:
    """A chunk as pieces, so that a large ``data`` is not copied."""
    crc = zlib.crc32(data, zlib.crc32(kind))
    return [struct.pack('>I', len(data)) + kind, data, struct.pack('>I', crc)]


def _png_parts(img: np.ndarray) -> List[bytes]:
    if img.dtype != np.uint8 or not (img.ndim == 2 or
                                     (img.ndim == 3 and img.shape[2] == 3)):
        raise ValueError('a stored PNG takes (H, W) or (H, W, 3) uint8, got '
                         f'{img.shape} {img.dtype}')
    height, width = img.shape[:2]
    channels = 1 if img.ndim == 2 else 3
    rows = np.empty((height, 1 + width * channels), np.uint8)
    rows[:, 0] = 0  # filter type: none
    # PNG holds RGB; OpenCV swaps the channels many times faster than a
    # copy through numpy's reversed stride.
    rows[:, 1:] = (img if channels == 1 else cv2.cvtColor(
        img, cv2.COLOR_BGR2RGB)).reshape(height, -1)
    header = struct.pack('>IIBBBBB', width, height, 8,
                         GREY if channels == 1 else RGB, 0, 0, 0)
    return [
        PNG_SIGNATURE, *_chunk(b'IHDR', header),
        *_chunk(b'IDAT', zlib.compress(rows, 0)), *_chunk(b'IEND', b'')
    ]


def stored_png(img: np.ndarray) -> bytes:
    """The bytes of an uncompressed PNG of ``img``.

    Args:
        img (np.ndarray): ``(H, W)`` grey or ``(H, W, 3)`` BGR (OpenCV's
            order) uint8 image, any strides.

    Returns:
        bytes: A PNG that decodes to ``img`` (BGR with OpenCV).

    Raises:
        ValueError: If ``img`` is not 8-bit grey or 3-channel.
    """
    return b''.join(_png_parts(img))


def write_stored_png(path: str, img: np.ndarray) -> None:
    """Write :func:`stored_png` of ``img`` to ``path``."""
    with open(path, 'wb') as f:
        f.writelines(_png_parts(img))
