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
# Formats without a reduced decode (all but JPEG and PNG) are decoded whole, at up to 4 bytes a pixel and
# more in the decoder (libheif needs some 110 MB for this much): a phone's 24 MP HEIC (5712 x 4284) fits.
MAX_FULL_DECODE_PIXELS = 25_000_000
# A JPEG is decoded at an eighth of its size (draft): every block is still read, at 1/64 of the pixels.
DRAFT_FORMATS = frozenset({"JPEG", "MPO"})


def decode_photo(payload: bytes) -> Photo | None:
    """A Photo when the bytes really are an intact picture of useful size, else None."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(payload)) as image:
                width, height = image.size
                if not _affordable(image):
                    return None
                content_type = Image.MIME.get(image.format or "", "image/unknown")
                _read_whole(image, payload)
    except Exception:  # noqa: BLE001 - decoders (Pillow's, libheif's) raise all kinds; undecodable is no photo
        return None
    if width * height < MIN_PHOTO_PIXELS:
        return None
    return Photo(hashlib.sha256(payload).hexdigest(), content_type, width, height, len(payload))


def _affordable(image: Image.Image) -> bool:
    """Whether the picture can be read whole at a bounded cost; its size comes from the header alone."""
    pixels = image.size[0] * image.size[1]
    if pixels > MAX_PHOTO_PIXELS:
        return False
    return image.format in DRAFT_FORMATS or image.format == "PNG" or pixels <= MAX_FULL_DECODE_PIXELS


def _read_whole(image: Image.Image, payload: bytes) -> None:
    """Reads all of the picture; raises when it is truncated or corrupt (at load() or verify(), not at open())."""
    if image.format in DRAFT_FORMATS:
        width, height = image.size
        image.draft(image.mode, (max(width // 8, 1), max(height // 8, 1)))
        image.load()
    elif image.format == "PNG":
        image.verify()  # every chunk and its CRC, up to the end marker, without decoding a pixel
    elif image.format == "HEIF":
        # libheif's decode is the check; through Pillow its pixels would be copied once more, at 4 bytes each.
        heif = pillow_heif.open_heif(io.BytesIO(payload))
        heif[heif.primary_index].load()
    else:
        image.load()
