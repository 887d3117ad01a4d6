"""Finding and opening the files of a data set: images by stem, image
sizes (and 'missing_image' / 'corrupt_image'), and the lines of a label
file ('unreadable_label')."""
import os
import os.path as osp
from typing import Dict, List, Optional, Tuple

from .issues import InputIssue, LabelIssues, check_choice

IMG_EXTENSIONS = ('.png', '.jpg', '.jpeg', '.tif', '.tiff', '.bmp')
CHECK_IMAGES = ('exists', 'header', 'decode')


def list_images(folder: str,
                issues: Optional[LabelIssues] = None) -> Dict[str, str]:
    """Image files of ``folder`` by stem (extension case ignored).

    Args:
        folder (str): The folder; a missing one raises FileNotFoundError.
        issues (LabelIssues, optional): Gets the 'duplicate_image' cases.
            Defaults to None.

    Returns:
        dict[str, str]: stem -> file name, sorted by stem.
    """
    if not osp.isdir(folder):
        raise FileNotFoundError(f'image folder {folder!r} does not exist')
    found: Dict[str, List[str]] = {}
    for name in os.listdir(folder):
        stem, ext = osp.splitext(name)
        if ext.lower() in IMG_EXTENSIONS:
            found.setdefault(stem, []).append(name)
    images = {}
    for stem in sorted(found):
        first, *others = sorted(found[stem], key=_extension_rank)
        images[stem] = first
        for other in others if issues is not None else ():
            issues.add(
                'duplicate_image',
                osp.join(folder, other),
                detail=f'{first} has the same stem')
    return images


def _extension_rank(name: str) -> Tuple[int, str]:
    return IMG_EXTENSIONS.index(osp.splitext(name)[1].lower()), name


def read_image_size(path: str,
                    check_images: str = 'header') -> Optional[Tuple[int, int]]:
    """``(height, width)`` of an image, checked as ``check_images`` says.

    Args:
        path (str): The image file.
        check_images (str): 'exists' (no file opened; returns None),
            'header' (PIL reads the header only) or 'decode' (every pixel
            is decoded, so truncated files are found). Defaults to 'header'.

    Raises:
        InputIssue: 'missing_image' or 'corrupt_image'.
    """
    check_choice('check_images', check_images, CHECK_IMAGES)
    if not osp.isfile(path):
        raise InputIssue('missing_image', 'file does not exist')
    if check_images == 'exists':
        return None
    from PIL import Image

    # Original DOTA v2 scenes exceed PIL's decompression-bomb limit, which
    # guards against untrusted uploads, not against a data set on disk.
    limit, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None
    try:
        with Image.open(path) as img:
            width, height = img.size
            if check_images == 'decode':
                img.load()
    except Exception as exc:  # PIL raises many types for bad files
        raise InputIssue('corrupt_image', f'{type(exc).__name__}: {exc}')
    finally:
        Image.MAX_IMAGE_PIXELS = limit
    if width <= 0 or height <= 0:
        raise InputIssue('corrupt_image', f'size {width}x{height}')
    return height, width


def read_label_lines(path: str) -> List[Tuple[int, str]]:
    """``(line number, text)`` of a label file, numbered from 1.

    Raises:
        InputIssue: 'unreadable_label' if it is not UTF-8 text.
    """
    try:
        with open(path, encoding='utf-8-sig') as f:
            return list(enumerate(f.read().splitlines(), 1))
    except (UnicodeDecodeError, OSError) as exc:
        raise InputIssue('unreadable_label', f'{type(exc).__name__}: {exc}')
