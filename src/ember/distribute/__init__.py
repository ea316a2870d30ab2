"""Data-parallel training on several processes (``torchrun``, SLURM, or processes you start).

The same training script runs data-parallel when launched with
``torchrun --nproc_per_node=N script.py``: ``fit``, ``evaluate`` and
``predict`` start the process group on first use (NCCL on CUDA, Gloo on CPU)
and train through ``torch.nn.parallel.DistributedDataParallel``.
``batch_size`` is the global batch; metrics are aggregated over processes;
only rank 0 prints and writes files. ``DataParallel(strategy="fsdp")`` shards the
weights over the processes instead (FSDP2). See ``docs/distributed.md``.
"""

from ember.distribute.data_parallel import DataParallel as DataParallel
from ember.distribute.data_parallel import distribution as distribution
from ember.distribute.data_parallel import set_distribution as set_distribution
from ember.distribute.process_group import barrier as barrier
from ember.distribute.process_group import initialize as initialize
from ember.distribute.process_group import is_distributed as is_distributed
from ember.distribute.process_group import is_initialized as is_initialized
from ember.distribute.process_group import is_main_process as is_main_process
from ember.distribute.process_group import local_rank as local_rank
from ember.distribute.process_group import rank as rank
from ember.distribute.process_group import world_size as world_size

__all__ = [
    "DataParallel",
    "barrier",
    "distribution",
    "initialize",
    "is_distributed",
    "is_initialized",
    "is_main_process",
    "local_rank",
    "rank",
    "set_distribution",
    "world_size",
]
