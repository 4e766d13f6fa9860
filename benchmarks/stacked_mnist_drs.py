"""Does discriminator rejection sampling (gankit.rejection) even out a kept Stacked-MNIST PacGAN run?

usage: python benchmarks/stacked_mnist_drs.py RUN_DIR N PARTNERS bs|eval

RUN_DIR: a checkpoint kept by ``stacked_mnist.py --keep``. Draws a pool of N EMA samples (latent seed 123),
classifies every channel, Platt-calibrates D on 8,000 test-split triples against 8,000 other samples, and scores each
pool sample by D's logit averaged over PARTNERS random packings ("mean") or by the least-squares fit of the packed
logits as sums of per-sample terms ("ls"); ``bs``: D's batch norm uses each batch's statistics (as in training),
``eval``: its running statistics. For gamma at no / the 99th, 95th, 80th and 50th percentile of F on the first
10,000 samples it prints the mean DRS acceptance, the KL to uniform of the pool's mode histogram weighted by the
acceptance probabilities ("weighted kl"; unweighted = plain sampling), and, when the pool holds 26,000 accepted
samples after the first 10,000, their scores as in stacked_mnist.py.
"""
import os
import sys
import time

import numpy as np
import torch
from scipy.sparse import csr_matrix
from scipy.sparse.linalg import lsqr

sys.path.insert(0, os.path.dirname(__file__))
from gankit.metrics.classifier import load_classifier, predict
from gankit.nets.base import pack_samples
from gankit.rejection import discriminator_critic, drs_score, platt_scale
from gankit.runs import load_run
from stacked_mnist import calibration_triples, score

run_dir, N, K = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
BS = sys.argv[4] == "bs"
run = load_run(run_dir)
D, m = run.recipe.modules["D"], run.recipe.pack
clf = load_classifier("mnist")
real = calibration_triples(0, os.path.join(os.path.dirname(__file__), '..', '..', 'shared', 'data'))


def modes_of(x):
    labels = [predict(clf, x[:, c:c + 1])[0] for c in range(3)]
    return torch.from_numpy(np.stack(labels, 1) @ np.array([100, 10, 1]))


def weighted_kl(modes, w):
    h = torch.zeros(1000, dtype=torch.float64).index_add_(0, modes, w.double())
    p = h / h.sum()
    nz = p > 0
    return float((p[nz] * torch.log(p[nz] * 1000)).sum()), int(nz.sum())


t0 = time.process_time()
pool = run.sample(N, 123, use_ema=True)
held = run.sample(8000, 999, use_ema=True)
t_gen = time.process_time() - t0
modes = modes_of(pool)
base = score(pool[:26000], clf)
print(f"gen {t_gen:.0f}s no-DRS modes {base['modes']} kl {base['kl']:.4f} chan {sum(base['channel_kl']):.4f}"
      f" | pool-weighted kl {weighted_kl(modes, torch.ones(N))}", flush=True)
t0 = time.process_time()
critic = discriminator_critic(D, batch_stats=BS, amp_dtype=torch.bfloat16)
a, _ = platt_scale(critic(pack_samples(real, m)), critic(pack_samples(held, m)))
g = torch.Generator().manual_seed(5)
rows, cols, ys, total = [], [], [], torch.zeros(N)
for k in range(K):
    order = torch.randperm(N, generator=g)
    logits = critic(pack_samples(pool[order], m))
    rows.append(k * (N // m) + torch.arange(N // m).repeat_interleave(m))
    cols.append(order)
    ys.append(logits)
    total[order] += logits.repeat_interleave(m)
mean_est = a * total / K
A = csr_matrix((np.ones(N * K), (torch.cat(rows).numpy(), torch.cat(cols).numpy())), shape=(K * N // m, N))
ls_est = a * torch.from_numpy(lsqr(A, torch.cat(ys).double().numpy(), atol=1e-8, btol=1e-8)[0])
t_sc = time.process_time() - t0
print(f"batch_stats={BS} platt a={a:.3f} score cpu {t_sc:.0f}s  mean-est sd {mean_est.std():.2f}  "
      f"ls-est sd {ls_est.std():.2f} corr {np.corrcoef(mean_est, ls_est)[0,1]:.3f}", flush=True)
for est_name, r in (("mean", mean_est), ("ls", ls_est)):
    for pct in (None, 99, 95, 80, 50):
        burn = r[:10000].double()
        M = float(burn.max())
        gamma = 0.0 if pct is None else float(np.percentile(drs_score(burn, M).numpy(), pct))
        p = torch.sigmoid(drs_score(r.double(), max(M, float(r.max())), gamma))
        wkl = weighted_kl(modes, p)
        line = f"    {est_name} pct {pct}: mean acc {p.mean():.3f} gamma {gamma:.2f} weighted kl {wkl[0]:.4f}"
        u = torch.rand(N, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
        acc = (u < p).nonzero()[:, 0]
        acc = acc[acc >= 10000]
        if len(acc) >= 26000:
            s_ = score(pool[acc[:26000]], clf)
            line += (f" | drawn 26k: modes {s_['modes']} kl {s_['kl']:.4f} chan {sum(s_['channel_kl']):.4f} "
                     f"{s_['channel_counts'][0]}")
        else:
            line += f" | drawn: only {len(acc)}"
        print(line, flush=True)
