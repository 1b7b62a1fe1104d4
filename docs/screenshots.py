"""Copy the browser tests' screenshots into docs/img/ for the coordinator's guide.

`make screenshots` runs the browser tests with KLASPOORT_SCREENSHOTS set to a fresh folder and
then runs this script on that folder, so the guide always shows today's pages. Each image the
guide uses (docs/handleiding-ict-coordinator.md) comes from one screenshot a test made
(tests/browser_support.py: `screenshots(page, name)` writes name-chromebook.png and
name-tablet.png, and a -full variant of each). The script fails loudly, and copies nothing,
when a mapped screenshot is missing or the guide uses an image that is not mapped: a stale
picture in the guide is worse than a failing command.

Python standard library only: usage `python docs/screenshots.py SCREENSHOT_FOLDER`.
"""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
GUIDE = DOCS / "handleiding-ict-coordinator.md"
IMAGES = DOCS / "img"

# Image in the guide -> screenshot a browser test made. Viewport shots (what a person sees
# first) keep each PNG small; a tablet version sits beside the Chromebook one for main pages.
MAPPING: dict[str, str] = {
    # tests/roster/test_browser.py: a coordinator's morning
    "01-inloggen.png": "01-inloggen-chromebook.png",
    "02-school-kiezen.png": "02-kies-een-school-chromebook.png",
    "03-gebruikersgegevens.png": "03c-na-de-nacht-chromebook.png",
    "03-gebruikersgegevens-tablet.png": "03c-na-de-nacht-tablet.png",
    "04-groepen.png": "05-groep-4-chromebook.png",
    "04-groepen-tablet.png": "05-groep-4-tablet.png",
    "05-leerkrachten.png": "07-leerkrachten-chromebook.png",
    "05-leerkrachten-tablet.png": "07-leerkrachten-tablet.png",
    "07-ip-adressen.png": "09-ip-adressen-chromebook.png",
    "14-mijn-profiel.png": "10-mijn-profiel-chromebook.png",
    "15-gegevens.png": "02b-gegevens-chromebook.png",
    "15-gegevens-tablet.png": "02b-gegevens-tablet.png",
    # tests/roster/test_browser_import_preview.py
    "20-import-voorbeeld.png": "preview-chromebook.png",
    "21-import-wacht-op-bevestiging.png": "held-chromebook.png",
    # tests/schools/test_consents.py
    "08-uitgeverijen.png": "uitgeverijen-chromebook.png",
    # tests/licences/test_browser.py
    "16-licentiebeheer.png": "licenties-01-per-groep-chromebook.png",
    "16-licentiebeheer-tablet.png": "licenties-01-per-groep-tablet.png",
    "17-kinderen-gekoppeld.png": "licenties-03-kinderen-gekoppeld-chromebook.png",
    # tests/schools/test_browser_coordinator.py: a coordinator's round through Beheer
    "22-coordinator-verwijderen.png": "beheer-03-coordinator-verwijderen-chromebook.png",
    "23-opzeggen.png": "beheer-02-opzeggen-chromebook.png",
    "24-logboek.png": "beheer-04-logboek-chromebook.png",
    # tests/roster/test_print_cards.py (the group's sign-in secrets, then the cards)
    "10-inlogcodes.png": "05-groep-4-tablet-full.png",
    "11-printversie.png": "printversie.png",
    # tests/signin/test_browser.py and tests/signin/test_browser_teacher.py
    "18-leerling-plaatjes.png": "signin-3-pictures-tablet.png",
    "19-lesmateriaal.png": "teacher-lesmateriaal-chromebook.png",
}


def guide_images(guide: Path = GUIDE) -> set[str]:
    """Every image file name the guide shows (`![…](img/NAME)`)."""
    return set(re.findall(r"\]\(img/([^)\s]+)\)", guide.read_text(encoding="utf-8")))


def problems(shots: Path, guide: Path = GUIDE) -> list[str]:
    """What stands in the way of a complete, current set of images (empty: all is well)."""
    found = [f"the guide shows img/{name}, which no test screenshot is mapped to"
             for name in sorted(guide_images(guide) - MAPPING.keys())]
    found += [f"{source} (for img/{name}) was not made by the browser tests in {shots}"
              for name, source in sorted(MAPPING.items()) if not (shots / source).is_file()]
    return found


def main(argv: list[str]) -> int:
    if len(argv) != 2 or not Path(argv[1]).is_dir():
        print("usage: python docs/screenshots.py SCREENSHOT_FOLDER", file=sys.stderr)
        return 2
    shots = Path(argv[1])
    trouble = problems(shots)
    if trouble:
        print("No images copied:", *trouble, sep="\n  ", file=sys.stderr)
        return 1
    IMAGES.mkdir(exist_ok=True)
    for name, source in sorted(MAPPING.items()):
        shutil.copyfile(shots / source, IMAGES / name)
        print(f"img/{name} <- {source} ({(IMAGES / name).stat().st_size // 1024} kB)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
