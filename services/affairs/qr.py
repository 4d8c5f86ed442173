"""QR codes that open a public record's URL: PNG (qrcode's pure-Python writer, through pypng)
and SVG (qrcode's own path image). No pillow needed."""
import io

import qrcode
from qrcode.image.pure import PyPNGImage
from qrcode.image.svg import SvgPathImage

FORMATS = {"png": ("image/png", PyPNGImage), "svg": ("image/svg+xml", SvgPathImage)}


def matrix(url: str) -> list[list[bool]]:
    """The code's modules (True = dark), without the quiet zone."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    code.add_data(url)
    code.make(fit=True)
    return code.get_matrix()


def image(url: str, image_format: str, box_size: int = 8, border: int = 4) -> tuple[str, bytes]:
    """``(content type, bytes)`` of a QR code holding ``url``."""
    content_type, factory = FORMATS[image_format]
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=box_size,
                         border=border, image_factory=factory)
    code.add_data(url)
    code.make(fit=True)
    buffer = io.BytesIO()
    code.make_image().save(buffer)
    return content_type, buffer.getvalue()
