"""Reports beyond pycocotools, computed from an accumulated COCOeval: AP per class, a per-class
table, precision-recall curves and their plot."""

from __future__ import annotations

import numpy as np


class Reports:
    """Mixed into COCOeval: reads self.eval, self.params and self.cocoGt."""

    def _area_m(self, areaRng, maxDets):
        p = self.eval["params"] if self.eval else self.params
        a = p.areaRngLbl.index(areaRng)
        m = p.maxDets.index(maxDets if maxDets is not None else p.maxDets[-1])
        return p, a, m

    def ap_per_class(self, iouThr=None, areaRng="all", maxDets=None):
        """{category_id: AP} averaged over the IoU thresholds (or at iouThr), as summarize()
        computes stats[0] for one class; -1 for a class without ground truth."""
        if not self.eval:
            raise RuntimeError("call accumulate() before ap_per_class()")
        p, a, m = self._area_m(areaRng, maxDets)
        s = self.eval["precision"]
        if iouThr is not None:
            s = s[np.where(np.isclose(p.iouThrs, iouThr))[0]]
        out = {}
        for k, cat in enumerate(p.catIds):
            v = s[:, :, k, a, m]
            out[cat] = float(np.mean(v[v > -1])) if (v > -1).any() else -1.0
        return out

    def per_class_table(self, iouThr=None, areaRng="all", maxDets=None):
        """A text table of AP per class (names from the ground truth categories)."""
        ap = self.ap_per_class(iouThr, areaRng, maxDets)
        cats = self.cocoGt.dataset.get("categories", []) if self.cocoGt is not None else []  # merged shards: ids
        names = {c["id"]: c.get("name", str(c["id"])) for c in cats}
        width = max([len("category")] + [len(str(names.get(c, c))) for c in ap])
        lines = [f"{'category':<{width}}  {'AP':>6}", "-" * (width + 8)]
        for cat, v in ap.items():
            lines.append(f"{str(names.get(cat, cat)):<{width}}  {v:6.3f}" if v >= 0 else f"{str(names.get(cat, cat)):<{width}}  {'-':>6}")
        return "\n".join(lines)

    def pr_curve(self, catId=None, iouThr=0.5, areaRng="all", maxDets=None):
        """(recall thresholds (R,), precision (R,)) at one IoU threshold, for one category
        or averaged over the categories that have ground truth (catId=None)."""
        if not self.eval:
            raise RuntimeError("call accumulate() before pr_curve()")
        p, a, m = self._area_m(areaRng, maxDets)
        t = int(np.where(np.isclose(p.iouThrs, iouThr))[0][0])
        prec = self.eval["precision"][t, :, :, a, m]  # (R, K)
        if catId is not None:
            return np.asarray(p.recThrs), prec[:, p.catIds.index(catId)]
        valid = (prec > -1).all(axis=0)
        mean = prec[:, valid].mean(axis=1) if valid.any() else np.full(len(p.recThrs), -1.0)
        return np.asarray(p.recThrs), mean

    def plot_pr(self, path, catIds=None, iouThrs=(0.5, 0.75), areaRng="all", maxDets=None):
        """Save precision-recall curves to an image file (needs matplotlib)."""
        try:
            import matplotlib

            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError as e:
            raise ImportError("plot_pr needs matplotlib (pip install matplotlib)") from e
        fig, ax = plt.subplots(figsize=(6, 5))
        for thr in iouThrs:
            for cat in catIds or [None]:
                r, pr = self.pr_curve(cat, thr, areaRng, maxDets)
                label = f"IoU={thr:.2f}" + ("" if cat is None else f" cat={cat}")
                ax.plot(r, np.clip(pr, 0, None), label=label)
        ax.set_xlabel("recall")
        ax.set_ylabel("precision")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1.01)
        ax.grid(True, alpha=0.3)
        ax.legend()
        ax.set_title("precision-recall (mean over classes)" if not catIds else "precision-recall")
        fig.tight_layout()
        fig.savefig(path, dpi=100)
        plt.close(fig)
