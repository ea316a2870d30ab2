"""Callbacks: hooks into `fit`, `evaluate` and `predict`."""

from ember.callbacks.backup_and_restore import BackupAndRestore
from ember.callbacks.callback import Callback
from ember.callbacks.callback_list import CallbackList
from ember.callbacks.csv_logger import CSVLogger
from ember.callbacks.early_stopping import EarlyStopping
from ember.callbacks.history import History
from ember.callbacks.lambda_callback import LambdaCallback
from ember.callbacks.learning_rate_scheduler import LearningRateScheduler
from ember.callbacks.model_checkpoint import ModelCheckpoint
from ember.callbacks.progbar_logger import ProgbarLogger
from ember.callbacks.reduce_lr_on_plateau import ReduceLROnPlateau
from ember.callbacks.remote_monitor import RemoteMonitor
from ember.callbacks.swap_ema_weights import SwapEMAWeights
from ember.callbacks.tensorboard import TensorBoard
from ember.callbacks.terminate_on_nan import TerminateOnNaN

__all__ = [
    "BackupAndRestore",
    "CSVLogger",
    "Callback",
    "CallbackList",
    "EarlyStopping",
    "History",
    "LambdaCallback",
    "LearningRateScheduler",
    "ModelCheckpoint",
    "ProgbarLogger",
    "ReduceLROnPlateau",
    "RemoteMonitor",
    "SwapEMAWeights",
    "TensorBoard",
    "TerminateOnNaN",
]
