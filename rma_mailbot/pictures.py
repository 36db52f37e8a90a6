"""Whether attached bytes are a photo: decoded once, when the mail is parsed. Pure."""

from __future__ import annotations

import hashlib
import io
import warnings

import pillow_heif
from PIL import Image

from rma_mailbot.models import Photo

# Phones send HEIC photos; with this, Pillow decodes them like any other.
pillow_heif.register_heif_opener()

# A signature logo or a tracking pixel is no photo of a parcel.
MIN_PHOTO_PIXELS = 200 * 200
MAX_PHOTO_PIXELS = 120_000_000


def decode_photo(payload: bytes) -> Photo | None:
    """A Photo when the bytes really decode as a picture of useful size, else None."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(payload)) as image:
                width, height = image.size
                if width * height > MAX_PHOTO_PIXELS:
                    return None
                # A truncated or corrupt file fails at load(), not at open(). A JPEG is decoded at an eighth
                # of its size: every block is still read, at a fraction of the cost of full pixels.
                image.draft(image.mode, (max(width // 8, 1), max(height // 8, 1)))
                image.load()
                content_type = Image.MIME.get(image.format or "", "image/unknown")
    except Exception:  # noqa: BLE001 - decoders (Pillow's, libheif's) raise all kinds; undecodable is no photo
        return None
    if width * height < MIN_PHOTO_PIXELS:
        return None
    return Photo(hashlib.sha256(payload).hexdigest(), content_type, width, height, len(payload))
