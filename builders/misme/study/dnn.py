"""The thesis's D-NN (Sections 4.2.2 and 4.3.2) in PyTorch on the CPU, seeded and deterministic.

Classifier: three hidden layers (ReLU, dropout 0.5, hidden bias initialised to 0.01), a
softmax output trained with categorical cross-entropy and Adam for 25 epochs. Regressor:
sigmoid hidden layers (bias 0), one linear output whose bias starts at 5 (the middle of the
1-9 scale), mean squared error. Keras's defaults fill in what the thesis leaves open:
Glorot-uniform weights, Adam with learning rate 0.001, batches of 32, shuffled each epoch.

Determinism: ``seed`` seeds torch's generator (the weights, then the dropout masks) and one
of the batch order; ``torch.use_deterministic_algorithms(True)`` and a fixed thread count (1) make
the same seed give the same predictions on any CPU run.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.base import BaseEstimator


@dataclass(frozen=True)
class DnnSettings:
    hidden: int = 512
    layers: int = 3
    dropout: float = 0.5
    epochs: int = 25
    batch_size: int = 32
    learning_rate: float = 0.001


def load_torch():
    """torch, deterministic and on one thread."""
    import torch

    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    return torch


def _network(torch, n_in: int, n_out: int, settings: DnnSettings, classification: bool):
    nn = torch.nn
    layers, width = [], n_in
    for _ in range(settings.layers):
        linear = nn.Linear(width, settings.hidden)
        nn.init.xavier_uniform_(linear.weight)
        nn.init.constant_(linear.bias, 0.01 if classification else 0.0)
        layers += [linear, nn.ReLU() if classification else nn.Sigmoid()]
        layers.append(nn.Dropout(settings.dropout))
        width = settings.hidden
    output = nn.Linear(width, n_out)
    nn.init.xavier_uniform_(output.weight)
    nn.init.constant_(output.bias, 0.0 if classification else 5.0)
    return nn.Sequential(*layers, output)


class DeepNetwork(BaseEstimator):
    """A scikit-learn-style estimator (``fit``, ``predict``) around the torch network."""

    def __init__(
        self, classification: bool, settings: DnnSettings | None = None, random_state: int = 0
    ) -> None:
        self.classification = classification
        self.settings = settings or DnnSettings()
        self.random_state = random_state

    def fit(self, x: np.ndarray, y: np.ndarray) -> DeepNetwork:
        torch = load_torch()
        seed = int(self.random_state) % (2**63)
        generator = torch.Generator().manual_seed(seed)  # the batch order
        torch.manual_seed(seed)  # the weights, then the dropout masks
        features = torch.as_tensor(np.asarray(x, dtype=np.float32))
        if self.classification:
            self.classes_, codes = np.unique(np.asarray(y), return_inverse=True)
            target = torch.as_tensor(codes, dtype=torch.long)
            loss_fn, n_out = torch.nn.CrossEntropyLoss(), len(self.classes_)
        else:
            target = torch.as_tensor(np.asarray(y, dtype=np.float32)).reshape(-1, 1)
            loss_fn, n_out = torch.nn.MSELoss(), 1
        self.network_ = _network(
            torch, features.shape[1], n_out, self.settings, self.classification
        )
        optimizer = torch.optim.Adam(self.network_.parameters(), lr=self.settings.learning_rate)
        self.network_.train()
        for _ in range(self.settings.epochs):
            order = torch.randperm(len(features), generator=generator)
            for start in range(0, len(order), self.settings.batch_size):
                batch = order[start : start + self.settings.batch_size]
                optimizer.zero_grad()
                loss = loss_fn(self.network_(features[batch]), target[batch])
                loss.backward()
                optimizer.step()
        return self

    def predict(self, x: np.ndarray) -> np.ndarray:
        torch = load_torch()
        self.network_.eval()
        with torch.no_grad():
            output = self.network_(torch.as_tensor(np.asarray(x, dtype=np.float32))).numpy()
        if self.classification:
            return self.classes_[output.argmax(axis=1)]
        return output[:, 0].astype(np.float64)
