"""Where each dataset comes from: official pages, download URLs and their SHA-256, file names.

``SOURCES`` is the single record of provenance the loaders use to find and fetch data. Only URLs
that serve a fixed file are listed as downloads: commit-pinned GitHub files and the Open
University's OULAD archive. The SHA-256s were computed offline from the staged copies of the
shared data: the pyBKT files rebuilt to their upstream bytes (verified against the Git blob ids
cited in their SOURCE.md), the RCT tutorial files as staged (their SOURCE.md says the bytes are
unchanged); ``tests/test_datasets_real.py`` re-derives them. The OULAD archive publishes no
checksum, so none is pinned. The ASSISTments 2009 and 2017 data are published through Google Sites
pages that link to Google Drive files, not a stable URL, so they are documented but not
downloaded: get the file from the page and pass ``path=``.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DataSource", "RemoteFile", "SOURCES"]


@dataclass(frozen=True)
class RemoteFile:
    """One downloadable file.

    Attributes
    ----------
    url : str
        A fixed URL (``https://`` or, in tests, ``file://``).
    filename : str
        Name of the file in the cache folder.
    sha256 : str or None
        Expected SHA-256 of the downloaded bytes. ``None`` only where no checksum is published and
        none could be computed here; the loader then logs the hash it saw.
    members : tuple of str
        For a zip archive, the file names to extract (matched by base name); empty otherwise.
    """

    url: str
    filename: str
    sha256: str | None
    members: tuple[str, ...] = ()


@dataclass(frozen=True)
class DataSource:
    """A dataset: where to look for it and how to get it.

    Attributes
    ----------
    name : str
        The loader's source name (``LoadReport.source``).
    folder : str
        Folder name under the shared data directory and under the cache directory.
    files : tuple of str
        Accepted file names inside ``folder``, in order of preference (staged copies are
        gzip-compressed, downloads are not).
    page : str
        Official page of the data (cite it).
    citation : str
        What the publisher asks users to cite.
    download : RemoteFile or None
        A stable download, when one exists.
    how_to_get : str
        What to do when no copy is found.
    """

    name: str
    folder: str
    files: tuple[str, ...]
    page: str
    citation: str
    download: RemoteFile | None
    how_to_get: str


_ASSISTMENTS_2009_PAGE = (
    "https://sites.google.com/site/assistmentsdata/home/assistment-2009-2010-data/"
    "skill-builder-data-2009-2010"
)
_PYBKT_EXAMPLES = "https://raw.githubusercontent.com/CAHLR/pyBKT-examples"
_RCT_TUTORIAL = "https://raw.githubusercontent.com/manncz/edm-rct-tutorial"
_RCT_COMMIT = "6f368ea4e468660fcebd1efc2de1f9047ae1dcb3"

SOURCES: dict[str, DataSource] = {
    "assistments2009": DataSource(
        name="assistments2009",
        folder="assistments2009_skillbuilder",
        files=(
            "interactions.csv.gz",
            "interactions.csv",
            "skill_builder_data_corrected.csv",
            "skill_builder_data.csv",
        ),
        page=_ASSISTMENTS_2009_PAGE,
        citation=(
            "Feng, M., Heffernan, N.T., & Koedinger, K.R. (2009). Addressing the assessment "
            "challenge in an Intelligent Tutoring System that tutors as it assesses. User Modeling "
            "and User-Adapted Interaction, 19, 243-266."
        ),
        download=None,
        how_to_get=(
            "download the skill-builder CSV (the corrected file) from "
            f"{_ASSISTMENTS_2009_PAGE} and pass path=; the processed copy "
            "assistments2009_skillbuilder/interactions.csv.gz of the shared data also loads"
        ),
    ),
    "assistments2017": DataSource(
        name="assistments2017",
        folder="assistments2017",
        files=("interactions.csv.gz", "interactions.csv"),
        page="https://sites.google.com/view/assistmentsdatamining/dataset",
        citation=(
            "Patikorn, T., Baker, R. S., & Heffernan, N. T. (2020). ASSISTments Longitudinal "
            "Data Mining Competition Special Issue: A Preface. Journal of Educational Data "
            "Mining, 12(2)."
        ),
        download=None,
        how_to_get=(
            "this loader reads the AKT-processed long table (student_id, seq_idx, problem_id, "
            "skill_idx, skill, correct) staged as assistments2017/interactions.csv.gz in the "
            "shared data; the raw competition file "
            "(https://sites.google.com/view/assistmentsdatamining/dataset) has another layout: "
            "add a per-student order column (e.g. ranked by startTime) and use load_csv"
        ),
    ),
    "pybkt_as": DataSource(
        name="pybkt_example",
        folder="pybkt_examples",
        files=("as_assistments2009_2skills.csv.gz", "as.csv"),
        page="https://github.com/CAHLR/pyBKT-examples",
        citation="Feng, Heffernan & Koedinger (2009), UMUAI 19, 243-266 (ASSISTments data).",
        download=RemoteFile(
            url=f"{_PYBKT_EXAMPLES}/8698d0b9b7ffb23c5f3c6283c6d744b0ad9ebaf0/data/as.csv",
            filename="as.csv",
            # Git blob 29646c7fad7828696b6b75c5bc0cc7d5f3f86ef6 at that commit.
            sha256="5a98287467e4acc351fe92af7aba36a782dbde8e64cdffb9a04e0f4d8aad4f2e",
        ),
        how_to_get="download=True fetches it from the pyBKT-examples repository",
    ),
    "pybkt_ct": DataSource(
        name="pybkt_example",
        folder="pybkt_examples",
        files=("ct_cognitive_tutor_algebra_11students.csv.gz", "ct.csv"),
        page="https://github.com/CAHLR/pyBKT-examples",
        citation=(
            "Stamper, J., Niculescu-Mizil, A., Ritter, S., Gordon, G.J., & Koedinger, K.R. (2010). "
            "Challenge data set from KDD Cup 2010 Educational Data Mining Challenge."
        ),
        download=RemoteFile(
            url=f"{_PYBKT_EXAMPLES}/05d88d3fc8b35341452d27614604562a4c28fb36/data/ct.csv",
            filename="ct.csv",
            # Git blob 1aab4c0e97b85dd61fd36321b6d28d66748824ad at that commit.
            sha256="317e01fba9899e9f18de13e60cbe8c449b458c23b23bbf677d6d96b92cc208e6",
        ),
        how_to_get="download=True fetches it from the pyBKT-examples repository",
    ),
    "oulad": DataSource(
        name="oulad",
        folder="oulad",
        files=("studentInfo.csv.gz", "studentInfo.csv"),
        page="https://analyse.kmi.open.ac.uk/open_dataset",
        citation=(
            "Kuzilek, J., Hlosta, M., & Zdrahal, Z. (2017). Open University Learning Analytics "
            "dataset. Scientific Data, 4, 170171. doi:10.1038/sdata.2017.171 (CC BY 4.0)"
        ),
        download=RemoteFile(
            url="https://analyse.kmi.open.ac.uk/open_dataset/download",
            filename="anonymisedData.zip",
            # The Open University publishes no checksum and the archive could not be fetched
            # where this was written; the loader logs the SHA-256 it sees.
            sha256=None,
            members=(
                "courses.csv",
                "assessments.csv",
                "vle.csv",
                "studentInfo.csv",
                "studentRegistration.csv",
                "studentAssessment.csv",
                "studentVle.csv",
            ),
        ),
        how_to_get=(
            "download=True fetches the archive from https://analyse.kmi.open.ac.uk/open_dataset, "
            "or pass path= to a folder with the OULAD CSV files"
        ),
    ),
    "ab_video_vs_text": DataSource(
        name="ab_video_vs_text",
        folder="assistments_ab_video_vs_text",
        files=("abTestExample.csv.gz", "abTestExample.csv"),
        page="https://github.com/manncz/edm-rct-tutorial",
        citation=(
            "Sales, A. C., Prihar, E. B., Gagnon-Bartsch, J. A., & Heffernan, N. T. (2023). Using "
            "Auxiliary Data to Boost Precision in the Analysis of A/B Tests on an Online "
            "Educational Platform: New Data and New Results. JEDM, 15(2), 53-85."
        ),
        download=RemoteFile(
            url=f"{_RCT_TUTORIAL}/{_RCT_COMMIT}/data/abTestExample.csv",
            filename="abTestExample.csv",
            sha256="632be483637447789da55a4066dc3b80198c6c3d2b251277a0ebb562d85fbc9d",
        ),
        how_to_get="download=True fetches it from the edm-rct-tutorial repository",
    ),
    "ab_video_vs_text_logs": DataSource(
        name="ab_video_vs_text",
        folder="assistments_ab_video_vs_text",
        files=("rctLogData.csv.gz", "rctLogData.csv"),
        page="https://github.com/manncz/edm-rct-tutorial",
        citation="Sales, Prihar, Gagnon-Bartsch & Heffernan (2023), JEDM 15(2), 53-85.",
        download=RemoteFile(
            url=f"{_RCT_TUTORIAL}/{_RCT_COMMIT}/data/rctLogData.csv",
            filename="rctLogData.csv",
            sha256="8cebc36ead355d16448feeb4094b5f3d670794962f3a5a7550ce6160e187fb29",
        ),
        how_to_get="download=True fetches it from the edm-rct-tutorial repository",
    ),
}
