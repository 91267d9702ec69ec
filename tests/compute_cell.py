import pytorch_lightning as pl
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset


class Reg(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.net = nn.Linear(4, 1)

    def training_step(self, batch, _):
        xb, yb = batch
        loss = nn.functional.mse_loss(self.net(xb).squeeze(-1), yb)
        self.log("train_loss", loss, sync_dist=True)
        return loss

    def validation_step(self, batch, _):
        xb, yb = batch
        self.log("val_loss", nn.functional.mse_loss(self.net(xb).squeeze(-1), yb), sync_dist=True)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


class Data(pl.LightningDataModule):
    def setup(self, stage=None):
        g = torch.Generator().manual_seed(0)
        X = torch.randn(512, 4, generator=g)
        y = X @ torch.tensor([1.0, -2.0, 0.5, 3.0])
        self.train, self.val = TensorDataset(X[:448], y[:448]), TensorDataset(X[448:], y[448:])

    def train_dataloader(self):
        return DataLoader(self.train, batch_size=32)

    def val_dataloader(self):
        return DataLoader(self.val, batch_size=64)


def make_model():
    return Reg()


def make_datamodule():
    return Data()
