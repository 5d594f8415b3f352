"""The source corpora, lexicons and theses the datasets are made from: licence and BibTeX.

The licences are stated as their publishers give them (check the link before you publish:
terms change); a derivative is never freer than its sources, so a dataset card's licence
is ``other`` with every source's terms listed (:func:`builders.hf.card.licence_file`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SourceDoc:
    """One source: its name, the terms its publisher gives, where, and how to cite it."""

    key: str
    name: str
    licence: str
    link: str
    bibtex: str


SOURCES = {
    s.key: s
    for s in (
        SourceDoc(
            "ravdess",
            "RAVDESS (audio-only speech)",
            "CC BY-NC-SA 4.0 (attribution, non-commercial, share-alike)",
            "https://zenodo.org/records/1188976",
            """@article{livingstone2018ravdess,
  title = {The {Ryerson} Audio-Visual Database of Emotional Speech and Song ({RAVDESS}): A dynamic, multimodal set of facial and vocal expressions in {North American English}},
  author = {Livingstone, Steven R. and Russo, Frank A.},
  journal = {PLoS ONE}, volume = {13}, number = {5}, pages = {e0196391}, year = {2018},
  doi = {10.1371/journal.pone.0196391}
}""",
        ),
        SourceDoc(
            "deam",
            "DEAM (MediaEval Database for Emotional Analysis in Music)",
            "audio under the Creative Commons licences of its original publishers (Free Music "
            "Archive, Jamendo, MedleyDB), listed per song in DEAM's metadata; annotations for "
            "non-commercial research use, as the DEAM page states",
            "https://cvml.unige.ch/databases/DEAM/",
            """@article{aljanaki2017deam,
  title = {Developing a benchmark for emotional analysis of music},
  author = {Aljanaki, Anna and Yang, Yi-Hsuan and Soleymani, Mohammad},
  journal = {PLoS ONE}, volume = {12}, number = {3}, pages = {e0173392}, year = {2017},
  doi = {10.1371/journal.pone.0173392}
}""",
        ),
        SourceDoc(
            "soundtracks",
            "Soundtracks (Eerola and Vuoskoski 2011, 360 film-music excerpts)",
            "research use on the terms of the University of Jyväskylä's download page; the "
            "excerpts are of commercial film scores (no redistribution)",
            "https://www.jyu.fi/hytk/fi/laitokset/mutku/en/research/projects2/past-projects/"
            "coe/materials/emotion/soundtracks",
            """@article{eerola2011comparison,
  title = {A comparison of the discrete and dimensional models of emotion in music},
  author = {Eerola, Tuomas and Vuoskoski, Jonna K.},
  journal = {Psychology of Music}, volume = {39}, number = {1}, pages = {18--49}, year = {2011},
  doi = {10.1177/0305735610362821}
}""",
        ),
        SourceDoc(
            "emopia",
            "EMOPIA (pop piano clips with quadrant labels)",
            "annotations CC BY-NC-SA 4.0 as given on its Zenodo record; the audio is YouTube's "
            "(obtained by each group itself, not redistributable)",
            "https://zenodo.org/records/5090631",
            """@inproceedings{hung2021emopia,
  title = {{EMOPIA}: A Multi-Modal Pop Piano Dataset For Emotion Recognition and Emotion-based Music Generation},
  author = {Hung, Hsiao-Tzu and Ching, Joann and Doh, Seungheon and Kim, Nabin and Nam, Juhan and Yang, Yi-Hsuan},
  booktitle = {Proceedings of the 22nd International Society for Music Information Retrieval Conference (ISMIR)},
  year = {2021}
}""",
        ),
        SourceDoc(
            "nrc-vad",
            "NRC-VAD lexicon",
            "free for research and non-commercial use, no redistribution; commercial use by "
            "licence from the National Research Council Canada",
            "https://saifmohammad.com/WebPages/nrc-vad.html",
            """@inproceedings{mohammad2018nrcvad,
  title = {Obtaining Reliable Human Ratings of Valence, Arousal, and Dominance for 20,000 {English} Words},
  author = {Mohammad, Saif M.},
  booktitle = {Proceedings of the 56th Annual Meeting of the Association for Computational Linguistics (ACL)},
  year = {2018}
}""",
        ),
        SourceDoc(
            "warriner",
            "Warriner et al. (2013) affective norms",
            "CC BY-NC-ND 3.0, as given by its publishers",
            "https://doi.org/10.3758/s13428-012-0314-x",
            """@article{warriner2013norms,
  title = {Norms of valence, arousal, and dominance for 13,915 {English} lemmas},
  author = {Warriner, Amy Beth and Kuperman, Victor and Brysbaert, Marc},
  journal = {Behavior Research Methods}, volume = {45}, number = {4}, pages = {1191--1207}, year = {2013},
  doi = {10.3758/s13428-012-0314-x}
}""",
        ),
        SourceDoc(
            "lastfm-spotify",
            "Last.fm mood tags and Spotify track metadata (the MuSe recipe), with audio the "
            "building group holds",
            "the Last.fm and Spotify API terms; the audio is the building group's own, not "
            "redistributable",
            "https://www.last.fm/api/tos",
            """@article{akiki2021muse,
  title = {{MuSe}: The Musical Sentiment Dataset},
  author = {Akiki, Christopher and Burghardt, Manuel},
  journal = {Journal of Open Humanities Data}, volume = {7}, year = {2021},
  doi = {10.5334/johd.33}
}""",
        ),
    )
}

THESES = {
    "laugs2020": """@mastersthesis{laugs2020misme,
  title = {Creating a Speech and Music Emotion Recognition System for Mixed Source Audio},
  author = {Laugs, Casper},
  school = {Utrecht University}, year = {2020}
}""",
    "rodningen2022": """@mastersthesis{rodningen2022instrumental,
  title = {Emotion Recognition from Speech and Instrumental Music: Proof of Shared Emotional Code Through Transfer Learning},
  author = {R{\\o}dningen, Jonas Klepper},
  school = {Norwegian University of Science and Technology (NTNU)}, year = {2022}
}""",
    "diazbanet2021": """@mastersthesis{diazbanet2021soundtracks,
  title = {Classification of Affective Emotion in Musical Themes: How to understand the emotional content of the soundtracks of the movies?},
  author = {Diaz Banet, Paula},
  school = {KTH Royal Institute of Technology}, year = {2021}
}""",
}

TOOLKIT_BIBTEX = """@software{misme_toolkit,
  title = {{MiSME} toolkit: emotion-recognition corpora, scoring and challenge leaderboards for mixed speech and music},
  author = {{The MiSME toolkit authors}},
  version = {0.1.0}, year = {2026},
  note = {See CITATION.cff}
}"""
