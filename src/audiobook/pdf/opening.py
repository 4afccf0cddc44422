"""Opening a PDF with PDFium, and the one-line refusals when it cannot be opened."""

from __future__ import annotations

from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from ..errors import BookError
from ..settings import EngineSettings



def open_pdf(path: Path, settings: EngineSettings) -> tuple[pdfium.PdfDocument, bool]:
    """Open the document; return it and whether it is encrypted. Refusals raise BookError."""
    password = settings.password_for(path.name)
    try:
        doc = pdfium.PdfDocument(path, password=password)
    except pdfium.PdfiumError as error:
        raise _open_refusal(getattr(error, "err_code", None), path.name, password) from None
    except OSError as error:
        raise BookError("not_a_book", f"cannot be read ({error.strerror})", "check the file exists and is readable") from None
    # -1 means no security handler; anything else opened only thanks to a (possibly empty) password.
    encrypted = pdfium_c.FPDF_GetSecurityHandlerRevision(doc) != -1
    if len(doc) == 0:
        doc.close()
        raise BookError("corrupt", "is a PDF without pages", "download or export the book again")
    return doc, encrypted


def _open_refusal(code: int | None, name: str, password: str | None) -> BookError:
    if code == pdfium_c.FPDF_ERR_PASSWORD:
        if password is None:
            return BookError(
                "encrypted",
                "is password-protected",
                f'put its password in config.yaml under engine.passwords, keyed by the file name: "{name}": "<password>"',
            )
        return BookError(
            "encrypted",
            "is password-protected and the password given in engine.passwords does not open it",
            f'correct the password for "{name}" under engine.passwords in config.yaml',
        )
    if code == pdfium_c.FPDF_ERR_SECURITY:
        return BookError(
            "drm",
            "is locked by a security handler (DRM) that cannot be opened",
            "export a DRM-free copy from where you got the book",
        )
    return BookError(
        "corrupt",
        "is damaged or incomplete and cannot be opened as a PDF",
        "download or export the file again (a cut-off download looks like this)",
    )

