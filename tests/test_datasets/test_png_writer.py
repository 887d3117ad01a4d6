"""Uncompressed PNG files: decoded by OpenCV and Pillow to the same
pixels, of the size the format gives."""
import cv2
import numpy as np
import pytest
from PIL import Image

from dkd_mm_data.png_writer import stored_png, write_stored_png


@pytest.mark.parametrize('shape', [(7, 5, 3), (1, 1, 3), (33, 64), (1, 9)])
def test_stored_png_decodes_to_the_same_pixels(tmp_path, shape):
    rng = np.random.default_rng(0)
    big = rng.integers(0, 256, (shape[0] + 4, shape[1] + 6) + shape[2:],
                       np.uint8)
    img = big[2:2 + shape[0], 3:3 + shape[1]]  # a strided crop, as a patch
    path = str(tmp_path / 'p.png')
    write_stored_png(path, img)
    assert np.array_equal(cv2.imread(path, cv2.IMREAD_UNCHANGED), img)
    rgb = img if img.ndim == 2 else img[..., ::-1]  # OpenCV holds BGR
    assert np.array_equal(np.asarray(Image.open(path)), rgb)
    # Stored: every pixel byte, one filter byte a row, and the fixed parts
    # (signature 8, IHDR 25, IEND 12, IDAT 12 + zlib 2 + 4, and 5 bytes a
    # stored block of at most 65535 bytes).
    raw = img.shape[0] * (1 + img[0].size)
    blocks = -(-raw // 65535)
    assert len(stored_png(img)) == 8 + 25 + 12 + 12 + 6 + 5 * blocks + raw


def test_stored_png_refuses_other_images():
    others = [((4, 4, 4), np.uint8), ((4, 4), np.float32),
              ((4, 4, 3), np.uint16)]
    for shape, dtype in others:
        with pytest.raises(ValueError, match='uint8'):
            stored_png(np.zeros(shape, dtype))
