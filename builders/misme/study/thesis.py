"""The thesis's own values (Laugs 2020, seed 000): real RAVDESS + DEAM/Soundtracks, 6-fold
cross-validation. Percentages as fractions; importances in units of 1e-2 as the thesis
prints them. The seed's text drops a leading "-." in places (R² "688" of the dummy in Table
4.5 is -.688): such values are given here as negative.
"""

from __future__ import annotations

EMOTIONS = ("neutral", "calm", "happy", "sad", "angry", "fearful", "disgust", "surprised")

# Table 4.1: model -> (speaker-dependent, speaker-independent) accuracy on RAVDESS
TABLE_4_1 = {
    "dnn": (0.774, 0.61),
    "mlp": (0.765, 0.603),
    "svm": (0.748, 0.574),
    "rf": (0.672, 0.551),
    "dummy-stratified": (0.135, 0.13),
    "dummy-most-frequent": (0.092, 0.133),
}
TABLE_4_1_PUBLISHED = {
    "Bagged ensemble SVM (Bhavan et al., 2019)": 0.756,
    "D-NN (Zeng et al., 2019)": 0.655,
}
# Table 4.2: experiment -> model -> accuracy
TABLE_4_2 = {
    "A": {"rf": 0.551, "dnn": 0.61, "dummy-stratified": 0.13},
    "B": {"rf": 0.148, "dnn": 0.14, "dummy-stratified": 0.13},
    "C": {"rf": 0.156, "dnn": 0.171, "dummy-stratified": 0.128},
    "D": {"rf": 0.301, "dnn": 0.29, "dummy-stratified": 0.128},
    "E": {"rf": 0.273, "dnn": 0.214, "dummy-stratified": 0.134},
    "F": {"rf": 0.414, "dnn": 0.431, "dummy-stratified": 0.131},
}
# Table 4.3: (precision|recall) -> model -> emotion -> values for S-S, S-M, M-M, B-B
TABLE_4_3_COMBINATIONS = ("A", "B", "D", "F")
TABLE_4_3 = {
    "precision": {
        "rf": {
            "neutral": (0.376, 0.0, 0.25, 0.286),
            "calm": (0.542, 0.153, 0.334, 0.444),
            "happy": (0.493, 0.0, 0.257, 0.404),
            "sad": (0.36, 0.131, 0.147, 0.249),
            "angry": (0.644, 0.286, 0.373, 0.502),
            "fearful": (0.656, 0.167, 0.233, 0.443),
            "disgust": (0.52, 0.185, 0.301, 0.361),
            "surprised": (0.66, 0.0, 0.289, 0.44),
        },
        "dnn": {
            "neutral": (0.575, 0.2, 0.201, 0.237),
            "calm": (0.632, 0.139, 0.399, 0.521),
            "happy": (0.656, 0.154, 0.247, 0.365),
            "sad": (0.436, 0.128, 0.194, 0.296),
            "angry": (0.646, 0.163, 0.455, 0.571),
            "fearful": (0.614, 0.131, 0.25, 0.354),
            "disgust": (0.652, 0.176, 0.29, 0.447),
            "surprised": (0.686, 0.15, 0.243, 0.554),
        },
    },
    "recall": {
        "rf": {
            "neutral": (0.333, 0.0, 0.002, 0.05),
            "calm": (0.812, 0.644, 0.654, 0.705),
            "happy": (0.385, 0.0, 0.21, 0.257),
            "sad": (0.26, 0.358, 0.09, 0.18),
            "angry": (0.698, 0.008, 0.656, 0.549),
            "fearful": (0.516, 0.039, 0.174, 0.354),
            "disgust": (0.552, 0.057, 0.201, 0.43),
            "surprised": (0.74, 0.0, 0.269, 0.606),
        },
        "dnn": {
            "neutral": (0.521, 0.002, 0.069, 0.225),
            "calm": (0.688, 0.892, 0.417, 0.579),
            "happy": (0.438, 0.01, 0.239, 0.357),
            "sad": (0.5, 0.049, 0.299, 0.277),
            "angry": (0.771, 0.008, 0.453, 0.546),
            "fearful": (0.604, 0.034, 0.149, 0.384),
            "disgust": (0.625, 0.051, 0.325, 0.441),
            "surprised": (0.693, 0.006, 0.258, 0.538),
        },
    },
}
# Table 4.4: top N (0 = all features) -> model -> accuracy on BSS speech (experiment F)
TABLE_4_4 = {
    0: {"rf": 0.414, "dnn": 0.431},
    20: {"rf": 0.388, "dnn": 0.37},
    50: {"rf": 0.426, "dnn": 0.387},
    100: {"rf": 0.431, "dnn": 0.418},
    250: {"rf": 0.436, "dnn": 0.437},
    500: {"rf": 0.433, "dnn": 0.434},
}
# Table 4.5: model -> target -> (RMSE, R², R² stdev, PCC), music-only audio
TABLE_4_5 = {
    "rf": {"valence": (0.921, 0.565, 0.106, 0.709), "arousal": (0.934, 0.595, 0.078, 0.742)},
    "svm": {"valence": (0.989, 0.421, 0.149, 0.646), "arousal": (1.007, 0.452, 0.088, 0.685)},
    "dnn": {"valence": (0.978, 0.448, 0.144, 0.667), "arousal": (1.024, 0.396, 0.201, 0.682)},
    "mlp": {"valence": (1.137, -0.016, 0.274, 0.58), "arousal": (1.163, 0.001, 0.289, 0.619)},
    "dummy-mean": {
        "valence": (1.296, -0.688, 0.131, -0.066),
        "arousal": (1.384, -0.936, 0.303, -0.09),
    },
}
# Table 4.6: model -> experiment -> target -> (RMSE, R², R² stdev, PCC)
TABLE_4_6 = {
    "rf": {
        "A": {"valence": (0.921, 0.565, 0.106, 0.709), "arousal": (0.934, 0.595, 0.078, 0.742)},
        "B": {"valence": (1.048, 0.274, 0.17, 0.632), "arousal": (1.087, 0.26, 0.103, 0.7)},
        "C": {"valence": (0.975, 0.455, 0.116, 0.673), "arousal": (1.008, 0.453, 0.08, 0.7)},
        "D": {"valence": (0.942, 0.524, 0.129, 0.69), "arousal": (0.931, 0.601, 0.078, 0.742)},
        "E": {"valence": (0.965, 0.476, 0.142, 0.674), "arousal": (1.043, 0.369, 0.164, 0.674)},
        "F": {"valence": (0.909, 0.589, 0.091, 0.717), "arousal": (0.928, 0.602, 0.086, 0.742)},
    },
    "dnn": {
        "A": {"valence": (0.978, 0.448, 0.144, 0.667), "arousal": (1.024, 0.396, 0.201, 0.682)},
        "B": {"valence": (1.387, -1.229, 0.304, 0.291), "arousal": (1.538, -2.092, 1.139, 0.315)},
        "C": {"valence": (1.097, 0.126, 0.19, 0.565), "arousal": (1.132, 0.091, 0.328, 0.614)},
        "D": {"valence": (0.947, 0.517, 0.094, 0.688), "arousal": (0.96, 0.546, 0.056, 0.723)},
        "E": {"valence": (1.037, 0.304, 0.106, 0.613), "arousal": (1.131, 0.101, 0.318, 0.65)},
        "F": {"valence": (0.943, 0.523, 0.111, 0.694), "arousal": (0.979, 0.499, 0.144, 0.713)},
    },
}
# Table 4.7: top N (0 = all) -> (valence RMSE, arousal RMSE), RFR on BSS music (experiment F)
TABLE_4_7 = {
    0: (0.909, 0.928),
    20: (0.878, 0.876),
    50: (0.84, 0.866),
    100: (0.848, 0.857),
    250: (0.858, 0.876),
    500: (0.881, 0.884),
}
# Tables 5.1 (speech), 5.4 (valence), 5.6 (arousal): pair -> shared in top 20, 50, 100, 250
TABLE_5_1 = {
    "single - mixed": (0, 1, 7, 38),
    "mixed - bss": (3, 3, 10, 36),
    "single - bss": (2, 8, 14, 49),
    "all three": (0, 0, 0, 8),
}
TABLE_5_4 = {
    "single - mixed": (6, 23, 42, 92),
    "mixed - bss": (8, 22, 45, 95),
    "single - bss": (7, 24, 52, 103),
    "all three": (4, 14, 29, 62),
}
TABLE_5_6 = {
    "single - mixed": (6, 19, 34, 85),
    "mixed - bss": (9, 18, 37, 91),
    "single - bss": (6, 18, 32, 86),
    "all three": (5, 10, 20, 47),
}
# Table D.1: Diebold-Mariano p-values (valence, arousal) between model-experiment pairs
TABLE_D_1 = {
    (("rf", "A"), ("dnn", "A")): (6.76e-14, 1.58e-26),
    (("rf", "A"), ("rf", "B")): (1.19e-131, 1.15e-142),
    (("dnn", "A"), ("dnn", "B")): (1.33e-197, 7.05e-195),
    (("rf", "A"), ("rf", "C")): (7.44e-45, 9.47e-76),
    (("rf", "B"), ("rf", "C")): (2.8e-50, 6.44e-45),
    (("dnn", "A"), ("dnn", "C")): (1.42e-32, 1.91e-19),
    (("dnn", "B"), ("dnn", "C")): (1.51e-138, 2.12e-147),
    (("rf", "A"), ("rf", "D")): (6.28e-07, 0.475),
    (("dnn", "A"), ("dnn", "D")): (3.374e-12, 1.429e-29),
    (("rf", "A"), ("rf", "F")): (0.001, 0.142),
    (("rf", "D"), ("rf", "F")): (8.124e-14, 0.467),
    (("dnn", "A"), ("dnn", "F")): (6.782e-15, 3.231e-21),
    (("dnn", "D"), ("dnn", "F")): (0.526, 0.005),
}
# Appendix E: the features shared by the top 50 of all three audio types (music)
APPENDIX_E = {
    "valence": (
        "lowlevel.melbands_flatness_db.median",
        "lowlevel.melbands_flatness_db.min",
        "lowlevel.melbands.median.29",
        "rhythm.onset_rate",
        "rhythm.beats_count",
        "lowlevel.barkbands_flatness_db.median",
        "lowlevel.spectral_contrast_valleys.dmean.2",
        "lowlevel.spectral_contrast_valleys.dmean.3",
        "lowlevel.spectral_contrast_valleys.dmean.1",
        "tonal.hpcp.dmean2.14",
        "tonal.hpcp.dvar.15",
        "tonal.hpcp.dmean2.11",
        "lowlevel.spectral_complexity.dmean2",
        "lowlevel.spectral_complexity.dmean",
    ),
    "arousal": (
        "rhythm.beats_count",
        "rhythm.onset_rate",
        "tonal.chords_number_rate",
        "lowlevel.spectral_complexity.dmean",
        "lowlevel.spectral_entropy.mean",
        "lowlevel.spectral_entropy.median",
        "lowlevel.spectral_contrast_valleys.dmean2.2",
        "lowlevel.spectral_contrast_valleys.dvar.1",
        "lowlevel.spectral_contrast_valleys.median.4",
        "lowlevel.spectral_flux.median",
    ),
}
# Tables 5.5 (valence) and 5.7 (arousal): audio type -> feature type -> (features,
# mean importance all, n in top 250, mean importance top 250, contribution % top 250, n in top 50)
TABLE_5_5_7 = {
    "valence": {
        "single": {
            "tonal": (413, 0.0095, 58, 0.0626, 12.8, 8),
            "erbbands": (405, 0.0035, 23, 0.0615, 5.0, 4),
            "melbands": (405, 0.0057, 32, 0.0927, 10.4, 9),
            "gfcc": (351, 0.0007, 17, 0.0254, 1.5, 0),
            "mfcc": (351, 0.0023, 16, 0.0447, 2.5, 1),
            "barkbands": (288, 0.0046, 15, 0.0978, 5.2, 4),
            "spectral": (252, 0.0555, 77, 0.1807, 48.9, 20),
            "rhythm": (121, 0.0299, 8, 0.4463, 12.5, 2),
            "silence": (27, 0.0004, 0, None, 0.0, 0),
            "hfc": (9, 0.0169, 1, 0.133, 0.5, 1),
            "pitch": (9, -0.0056, 1, 0.0316, 0.1, 0),
            "zerocrossingrate": (9, 0.0158, 1, 0.0658, 0.2, 0),
            "dissonance": (9, 0.0028, 0, None, 0.0, 0),
            "dynamic_complexity": (1, 0.0122, 0, None, 0.0, 0),
            "average_loudness": (1, 0.1056, 1, 0.1056, 0.4, 1),
        },
        "mixed": {
            "tonal": (413, 0.0101, 76, 0.0583, 16.0, 14),
            "erbbands": (405, 0.0008, 25, 0.0409, 3.7, 1),
            "melbands": (405, 0.0032, 33, 0.0573, 6.8, 3),
            "gfcc": (351, 0.001, 11, 0.0287, 1.1, 1),
            "mfcc": (351, 0.0002, 9, 0.0397, 1.3, 1),
            "barkbands": (288, 0.0006, 15, 0.0537, 2.9, 3),
            "spectral": (252, 0.0321, 68, 0.123, 30.2, 23),
            "rhythm": (121, 0.0816, 8, 1.2385, 35.8, 2),
            "silence": (27, 0.0008, 0, None, 0.0, 0),
            "hfc": (9, 0.0024, 1, 0.0262, 0.1, 0),
            "pitch": (9, 0.0076, 1, 0.0299, 0.1, 0),
            "zerocrossingrate": (9, -0.0023, 0, None, 0.0, 0),
            "dissonance": (9, 0.0147, 2, 0.0643, 0.5, 1),
            "dynamic_complexity": (1, 0.009, 0, None, 0.0, 0),
            "average_loudness": (1, 0.4057, 1, 0.4057, 1.5, 1),
        },
        "bss": {
            "tonal": (413, 0.0127, 73, 0.0688, 16.1, 13),
            "erbbands": (405, 0.0046, 33, 0.0614, 6.5, 5),
            "melbands": (405, 0.008, 36, 0.0839, 9.7, 8),
            "gfcc": (351, 0.0006, 1, 0.0235, 0.1, 0),
            "mfcc": (351, 0.0011, 4, 0.0299, 0.4, 0),
            "barkbands": (288, 0.0037, 28, 0.0381, 3.4, 2),
            "spectral": (252, 0.0495, 64, 0.1912, 39.3, 17),
            "rhythm": (121, 0.06, 5, 1.4387, 23.1, 3),
            "silence": (27, 0.0007, 0, None, 0.0, 0),
            "hfc": (9, 0.0131, 2, 0.0922, 0.6, 1),
            "pitch": (9, 0.0036, 0, None, 0.0, 0),
            "zerocrossingrate": (9, -0.0393, 1, 0.0302, 0.1, 0),
            "dissonance": (9, 0.0141, 2, 0.0893, 0.6, 1),
            "dynamic_complexity": (1, -0.0007, 0, None, 0.0, 0),
            "average_loudness": (1, 0.0427, 1, 0.0427, 0.1, 0),
        },
    },
    "arousal": {
        "single": {
            "tonal": (413, 0.008, 46, 0.0675, 11.7, 9),
            "erbbands": (405, 0.0044, 27, 0.0534, 5.4, 3),
            "melbands": (405, 0.0054, 36, 0.0576, 7.8, 5),
            "gfcc": (351, 0.0036, 27, 0.0363, 3.7, 0),
            "mfcc": (351, 0.0023, 12, 0.0351, 1.6, 0),
            "barkbands": (288, 0.0049, 21, 0.0737, 5.8, 5),
            "spectral": (252, 0.0375, 58, 0.1567, 34.2, 18),
            "rhythm": (121, 0.0587, 14, 0.4937, 26.0, 6),
            "silence": (27, -0.0007, 0, None, 0.0, 0),
            "hfc": (9, 0.004, 1, 0.0391, 0.1, 0),
            "pitch": (9, 0.0047, 2, 0.0338, 0.3, 0),
            "zerocrossingrate": (9, 0.0831, 4, 0.1862, 2.8, 3),
            "dissonance": (9, 0.008, 1, 0.045, 0.2, 0),
            "dynamic_complexity": (1, -0.0185, 0, None, 0.0, 0),
            "average_loudness": (1, 0.1461, 1, 0.1461, 0.5, 1),
        },
        "mixed": {
            "tonal": (413, 0.0084, 58, 0.0603, 13.0, 12),
            "erbbands": (405, 0.0081, 37, 0.0947, 13.0, 10),
            "melbands": (405, 0.0024, 29, 0.0377, 4.1, 3),
            "gfcc": (351, 0.0016, 15, 0.0248, 1.4, 0),
            "mfcc": (351, 0.0011, 12, 0.0296, 1.3, 0),
            "barkbands": (288, 0.0014, 13, 0.0428, 2.1, 2),
            "spectral": (252, 0.038, 66, 0.1449, 35.6, 18),
            "rhythm": (121, 0.0625, 12, 0.6206, 27.7, 3),
            "silence": (27, -0.0023, 0, None, 0.0, 0),
            "hfc": (9, 0.0075, 1, 0.0723, 0.3, 0),
            "pitch": (9, 0.0035, 2, 0.0235, 0.2, 0),
            "zerocrossingrate": (9, -0.0006, 0, None, 0.0, 0),
            "dissonance": (9, 0.0241, 3, 0.0621, 0.7, 1),
            "dynamic_complexity": (1, 0.055, 1, 0.055, 0.2, 0),
            "average_loudness": (1, 0.1376, 1, 0.1376, 0.5, 1),
        },
        "bss": {
            "tonal": (413, 0.0048, 54, 0.0411, 8.9, 6),
            "erbbands": (405, 0.0031, 37, 0.0503, 7.5, 6),
            "melbands": (405, 0.0006, 31, 0.0288, 3.6, 2),
            "gfcc": (351, 0.0008, 8, 0.027, 0.9, 0),
            "mfcc": (351, 0.001, 6, 0.031, 0.7, 1),
            "barkbands": (288, 0.0009, 20, 0.0392, 3.1, 1),
            "spectral": (252, 0.0445, 69, 0.1653, 45.7, 23),
            "rhythm": (121, 0.0504, 12, 0.4999, 24.0, 6),
            "silence": (27, 0.0024, 2, 0.028, 0.2, 0),
            "hfc": (9, 0.0863, 3, 0.2613, 3.1, 3),
            "pitch": (9, 0.0082, 2, 0.0183, 0.1, 0),
            "zerocrossingrate": (9, 0.0378, 3, 0.1101, 1.3, 1),
            "dissonance": (9, 0.018, 3, 0.0573, 0.7, 1),
            "dynamic_complexity": (1, -0.0233, 0, None, 0.0, 0),
            "average_loudness": (1, 0.0148, 0, None, 0.0, 0),
        },
    },
}
# Table 5.2: audio type -> feature type -> (features, mean importance all, mean importance
# top 250, n in top 250, contribution % top 250). The seed's text lost the sign and point of
# the mixed audio's "M.I All" values (e.g. "064"; below the type's top-250 mean, so -.064)
# and of the BSS jitter value ("006"); they are given here as negative.
TABLE_5_2 = {
    "single": {
        "mfcc": (630, 0.021, 0.135, 74, 24.8),
        "logMelFreqBand": (336, 0.042, 0.163, 86, 34.6),
        "lspFreq": (336, 0.018, 0.137, 31, 10.5),
        "F0": (82, 0.094, 0.237, 31, 18.2),
        "jitter": (76, 0.038, 0.181, 13, 5.8),
        "loudness": (42, 0.009, 0.116, 3, 0.9),
        "voicing": (42, 0.03, 0.25, 5, 3.1),
        "shimmer": (38, 0.03, 0.125, 7, 2.2),
    },
    "mixed": {
        "mfcc": (630, -0.064, 0.027, 102, 37.1),
        "logMelFreqBand": (336, -0.057, 0.044, 53, 34.1),
        "lspFreq": (336, -0.065, 0.022, 50, 16.3),
        "F0": (82, -0.083, 0.013, 12, 2.3),
        "jitter": (76, -0.066, 0.017, 13, 3.2),
        "loudness": (42, -0.072, 0.019, 6, 1.7),
        "voicing": (42, -0.052, 0.029, 7, 3.0),
        "shimmer": (38, -0.045, 0.02, 7, 2.1),
    },
    "bss": {
        "mfcc": (630, 0.007, 0.075, 92, 31.7),
        "logMelFreqBand": (336, 0.014, 0.01, 55, 25.2),
        "lspFreq": (336, 0.007, 0.071, 49, 16.1),
        "F0": (82, 0.037, 0.164, 21, 15.8),
        "jitter": (76, -0.006, 0.097, 6, 2.7),
        "loudness": (42, 0.019, 0.068, 15, 4.7),
        "voicing": (42, 0.003, 0.073, 7, 2.3),
        "shimmer": (38, 0.002, 0.063, 5, 1.4),
    },
}
