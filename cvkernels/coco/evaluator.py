"""COCOeval: pycocotools' evaluator (evaluate, accumulate, summarize, evalImgs, ious) on the C++
matcher and accumulator of csrc/eval/."""

from __future__ import annotations

import datetime

import numpy as np

from .. import _C, _threads
from .params import Params, copy_params
from .reports import Reports
from .sharded import MatchRecords


class COCOeval(Reports):
    """pycocotools.cocoeval.COCOeval: evaluate(), accumulate(), summarize(), .params, .eval,
    .stats, .evalImgs (built when first read), .ious. Plus ap_per_class(), per_class_table(),
    pr_curve() and plot_pr().

    Args:
        cocoGt, cocoDt: COCO objects (ground truth, results from loadRes).
        iouType: "bbox", "segm" (the default, as in pycocotools) or "keypoints" (OKS).
    """

    def __init__(self, cocoGt=None, cocoDt=None, iouType="segm"):
        self.cocoGt = cocoGt
        self.cocoDt = cocoDt
        self.params = Params(iouType=iouType)
        self.eval = {}
        self._paramsEval = {}
        self.stats = []
        self._ev = None
        self._evalImgs = None
        self._ious = None
        if cocoGt is not None:
            try:
                sorted_ids = getattr(cocoGt, "_sorted_img_ids", None)
                self.params.imgIds = sorted_ids() if sorted_ids else sorted(cocoGt.getImgIds())
                self.params.catIds = sorted(cocoGt.getCatIds())
            except TypeError:  # pycocotools' sorted() fails the same way; say why
                raise ValueError("image ids and category ids must be all integers or all strings") from None

    # --- evaluate --------------------------------------------------------------------------

    def evaluate(self):
        """Match detections to ground truth for every image, category, area range and IoU
        threshold (pycocotools' evaluateImg), in C++ on the thread pool."""
        p = self.params
        if p.iouType not in ("bbox", "segm", "keypoints"):
            raise ValueError(f"iouType must be 'bbox', 'segm' or 'keypoints', got {p.iouType!r}")
        if self.cocoGt is None or self.cocoDt is None:
            raise ValueError("COCOeval needs cocoGt and cocoDt")
        try:
            img_ids = np.unique(p.imgIds)
            p.imgIds = list(img_ids)
            cat_ids = p.catIds
            if p.useCats:
                cat_ids = np.unique(p.catIds)
                p.catIds = list(cat_ids)
        except TypeError:
            raise ValueError("image ids and category ids must be all integers or all strings") from None
        p.maxDets = sorted(p.maxDets)
        area_rng = np.asarray(p.areaRng, dtype=np.float64).reshape(-1, 2)
        # The fields as they are now (edits to the dicts since loadRes / createIndex count).
        self._gt_cols, self._dt_cols = self.cocoGt._columns(False), self.cocoDt._columns(True)
        sides = []
        for c, side in ((self._gt_cols, "annotation"), (self._dt_cols, "result")):
            if c.no_bbox >= 0 and (p.iouType == "bbox" or (p.iouType == "keypoints" and side == "annotation")):
                raise ValueError(f"{side} {c.no_bbox} has no 'bbox' ({p.iouType} evaluation needs one)")
            img, cat, boxes, area, crowd, score = c.image_id, c.category_id, c.bbox, c.area, c.iscrowd, c.score
            ii = _positions(img, img_ids)  # (the arrays: not the lists of numpy scalars again)
            kk = _positions(cat, cat_ids)
            if p.useCats and (len(ii) == 0 or (ii.min() >= 0 and kk.min() >= 0)):  # the usual case:
                sides.append((slice(None), ii, kk, boxes, area, crowd, score))  # every annotation, no copies
                continue
            keep = (ii >= 0) & (kk >= 0)
            sel = np.flatnonzero(keep)
            if p.useCats:
                kcol = kk[sel]
            else:
                # pycocotools lists an image's annotations category by category
                sel = sel[np.argsort(kk[sel], kind="stable")]
                kcol = np.zeros(len(sel), dtype=np.int64)
            sides.append((sel, ii[sel], kcol, boxes[sel], area[sel], crowd[sel], score[sel]))
        sides, flags = self._federate(*sides)
        (gsel, gi, gk, gb, ga, gc, _), (dsel, di, dk, db, da, _, ds) = sides
        self._gt_sel, self._dt_sel = gsel, dsel
        K = len(p.catIds) if p.useCats else 1
        _threads.sync()
        self._ev = _C.CocoEval(list(map(float, p.iouThrs)), list(map(float, p.recThrs)), area_rng,
                               [int(m) for m in p.maxDets], len(p.imgIds), K, gi, gk, gb, ga, gc, di, dk, db, da, ds)
        if flags is not None:
            self._ev.set_ignore(*flags)
        if p.iouType == "segm":
            g_set, d_set = self.cocoGt._rle_set(), self.cocoDt._rle_set()
            index = lambda n, sel: np.arange(n, dtype=np.int64)[sel]  # noqa: E731
            self._ev.set_masks(g_set, index(len(g_set), gsel), d_set, index(len(d_set), dsel))
        elif p.iouType == "keypoints":
            sigmas = [float(s) for s in np.asarray(p.kpt_oks_sigmas, dtype=np.float64).reshape(-1)]
            g_kp, g_none = self.cocoGt._keypoints(len(sigmas), False)
            d_kp, _ = self.cocoDt._keypoints(len(sigmas), True)
            self._kpts = (np.ascontiguousarray(g_kp[gsel]), np.ascontiguousarray(d_kp[dsel]), sigmas)
            self._ev.set_keypoints(self._kpts[0], self._kpts[1], sigmas, g_none[gsel])
        self._ev.evaluate()
        self._paramsEval = copy_params(p)
        self._evalImgs = None
        self._ious = None

    def _federate(self, gt_side, dt_side):
        """The evaluated columns of each side, (sel, image pos, category pos, boxes, area,
        crowd, score), and optional (gt ignore, dt ignore) flags: a hook for evaluations with
        other rules (cvkernels.lvis); COCO keeps them as they are."""
        return (gt_side, dt_side), None

    # --- accumulate ------------------------------------------------------------------------

    def accumulate(self, p=None):
        """Precision / recall / scores arrays, pycocotools' self.eval."""
        if self._ev is None:
            raise RuntimeError("call evaluate() before accumulate()")
        if p is None:
            p = self.params
        pe = self._paramsEval
        p.catIds = p.catIds if p.useCats == 1 else [-1]
        eval_cats = list(pe.catIds) if pe.useCats else [-1]
        cat_pos = {c: k for k, c in enumerate(eval_cats)}
        area_pos = {tuple(a): i for i, a in enumerate(map(tuple, pe.areaRng))}
        k_list = [cat_pos[c] if pe.useCats else 0 for c in p.catIds if c in cat_pos]
        a_list = [area_pos[tuple(a)] for a in p.areaRng if tuple(a) in area_pos]
        m_list = [m for m in p.maxDets if m in set(pe.maxDets)]
        if p.imgIds == pe.imgIds:  # the usual case: the images evaluated, in their order
            i_list = list(range(len(pe.imgIds)))
        else:
            img_pos = {im: i for i, im in enumerate(pe.imgIds)}
            i_list = [img_pos[i] for i in p.imgIds if i in img_pos]
        precision, recall, scores = self._ev.accumulate(k_list, a_list, m_list, i_list)
        T, R = len(p.iouThrs), len(p.recThrs)
        K = len(p.catIds) if p.useCats else 1
        A, M = len(p.areaRng), len(p.maxDets)
        if precision.shape != (T, R, K, A, M):  # some requested entries were not evaluated
            full_p = -np.ones((T, R, K, A, M))
            full_r = -np.ones((T, K, A, M))
            full_s = -np.ones((T, R, K, A, M))
            k_n, a_n, m_n = precision.shape[2:]
            full_p[:, :, :k_n, :a_n, :m_n] = precision
            full_r[:, :k_n, :a_n, :m_n] = recall
            full_s[:, :, :k_n, :a_n, :m_n] = scores
            precision, recall, scores = full_p, full_r, full_s
        self._set_eval(p, precision, recall, scores)

    def _set_eval(self, p, precision, recall, scores):
        T, R, K, A, M = precision.shape
        self.eval = {
            "params": p,
            "counts": [T, R, K, A, M],
            "date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M:%S"),
            "precision": precision,
            "recall": recall,
            "scores": scores,
        }

    def match_records(self):
        """evaluate()'s outcome as per-detection match records (`cvkernels.coco.sharded`):
        what accumulate needs, and all that processes evaluating disjoint shards of the images
        send to the one that merges them (`merge_match_records`, `evaluate_sharded`)."""
        if self._ev is None:
            raise RuntimeError("call evaluate() before match_records()")
        pe = self._paramsEval
        K = len(pe.catIds) if pe.useCats else 1
        cap = max(pe.maxDets) if pe.maxDets else 0
        r = self._ev.records(list(range(K)), list(range(len(pe.areaRng))), list(range(len(pe.imgIds))), int(cap))
        small = np.int32 if len(pe.imgIds) < 2**31 else np.int64
        return MatchRecords(copy_params(pe), r["cat"].astype(np.int32), r["image"].astype(small),
                            r["rank"].astype(np.int32), r["score"], r["state"], r["npig"])

    # --- summarize -------------------------------------------------------------------------

    def summarize(self):
        """Print and return pycocotools' twelve summary numbers (self.stats)."""
        if not self.eval:
            raise RuntimeError("call accumulate() before summarize()")
        p = self.params
        max_dets = list(p.maxDets)

        def _summarize(ap=1, iouThr=None, areaRng="all", maxDets=100):
            iStr = " {:<18} {} @[ IoU={:<9} | area={:>6s} | maxDets={:>3d} ] = {:0.3f}"
            titleStr = "Average Precision" if ap == 1 else "Average Recall"
            typeStr = "(AP)" if ap == 1 else "(AR)"
            iouStr = (f"{p.iouThrs[0]:0.2f}:{p.iouThrs[-1]:0.2f}" if iouThr is None else f"{iouThr:0.2f}")
            aind = [i for i, aRng in enumerate(p.areaRngLbl) if aRng == areaRng]
            mind = [i for i, mDet in enumerate(p.maxDets) if mDet == maxDets]
            s = self.eval["precision" if ap == 1 else "recall"]
            if iouThr is not None:
                s = s[np.where(iouThr == p.iouThrs)[0]]
            # pycocotools' s[s > -1] of the copy s[:, :, :, aind, mind]: read from a view when
            # aind and mind are single indices (the same elements in the same order), in one pass
            s = s[..., aind[0], mind[0]] if len(aind) == 1 and len(mind) == 1 else s[..., aind, mind]
            valid = _C.values_above(np.asarray(s, dtype=np.float64), -1.0)
            mean_s = -1 if len(valid) == 0 else np.mean(valid)
            print(iStr.format(titleStr, typeStr, iouStr, areaRng, maxDets, mean_s))
            return mean_s

        def md(i):  # pycocotools indexes maxDets[0..2]; tolerate fewer
            return max_dets[min(i, len(max_dets) - 1)]

        if p.iouType == "keypoints":  # pycocotools' _summarizeKps: maxDets 20, no small range
            stats = np.zeros((10,))
            for i, (ap, iou, rng) in enumerate([(1, None, "all"), (1, .5, "all"), (1, .75, "all"), (1, None, "medium"),
                                                (1, None, "large"), (0, None, "all"), (0, .5, "all"), (0, .75, "all"),
                                                (0, None, "medium"), (0, None, "large")]):
                stats[i] = _summarize(ap, iouThr=iou, areaRng=rng, maxDets=20)
            self.stats = stats
            return stats

        stats = np.zeros((12,))
        # pycocotools reads AP at maxDets=100 (mmdetection's [100, 300, 1000] relies on it); where
        # 100 is not evaluated it prints -1: we report the largest maxDets instead
        stats[0] = _summarize(1, maxDets=100 if 100 in max_dets else max_dets[-1])
        stats[1] = _summarize(1, iouThr=0.5, maxDets=md(2))
        stats[2] = _summarize(1, iouThr=0.75, maxDets=md(2))
        stats[3] = _summarize(1, areaRng="small", maxDets=md(2))
        stats[4] = _summarize(1, areaRng="medium", maxDets=md(2))
        stats[5] = _summarize(1, areaRng="large", maxDets=md(2))
        stats[6] = _summarize(0, maxDets=md(0))
        stats[7] = _summarize(0, maxDets=md(1))
        stats[8] = _summarize(0, maxDets=md(2))
        stats[9] = _summarize(0, areaRng="small", maxDets=md(2))
        stats[10] = _summarize(0, areaRng="medium", maxDets=md(2))
        stats[11] = _summarize(0, areaRng="large", maxDets=md(2))
        self.stats = stats
        return stats

    def __str__(self):
        self.summarize()
        return ""

    # --- pycocotools' per-image views, built on request ------------------------------------

    @property
    def evalImgs(self):
        """pycocotools' evalImgs: one dict (or None) per (category, area range, image)."""
        if self._ev is None:
            return []
        if self._evalImgs is None:
            self._evalImgs = self._build_eval_imgs()
        return self._evalImgs

    @evalImgs.setter
    def evalImgs(self, value):
        self._evalImgs = value

    def _build_eval_imgs(self):
        p = self._paramsEval
        gt_ids = self._gt_cols.id[self._gt_sel]
        dt_cols = self._dt_cols
        dt_ids = dt_cols.id[self._dt_sel]
        dt_scores = dt_cols.score[self._dt_sel]
        cat_ids = p.catIds if p.useCats else [-1]
        max_det = p.maxDets[-1]
        out = []
        for k, cat in enumerate(cat_ids):
            for a, rng in enumerate(p.areaRng):
                for i, img in enumerate(p.imgIds):
                    g = self._ev.group(k, i, a)
                    if g is None:
                        out.append(None)
                        continue
                    dets, gts, match, dig, gig = g
                    order = np.argsort(gig, kind="stable")  # ignored ground truth last
                    pos = np.empty_like(order)
                    pos[order] = np.arange(len(order))
                    T, D = match.shape
                    dtm = np.zeros((T, D))
                    gtm = np.zeros((T, len(gts)))
                    for t in range(T):
                        for d in range(D):
                            m = match[t, d]
                            if m >= 0:
                                dtm[t, d] = gt_ids[gts[m]]
                                gtm[t, pos[m]] = dt_ids[dets[d]]
                    out.append({
                        "image_id": img, "category_id": cat, "aRng": rng, "maxDet": max_det,
                        "dtIds": [dt_ids[d] for d in dets], "gtIds": [gt_ids[gts[j]] for j in order],
                        "dtMatches": dtm, "gtMatches": gtm, "dtScores": [float(dt_scores[d]) for d in dets],
                        "gtIgnore": gig[order].astype(bool).astype(int), "dtIgnore": dig.astype(bool),
                    })
        return out

    @property
    def ious(self):
        """pycocotools' ious: {(imgId, catId): (D, G) IoU (keypoints: OKS) matrix} for groups
        with both."""
        if self._ev is None:
            return {}
        if self._ious is None:
            p = self._paramsEval
            gb = self._gt_cols.bbox[self._gt_sel]
            gc = self._gt_cols.iscrowd[self._gt_sel]
            db = self._dt_cols.bbox[self._dt_sel]
            cat_ids = p.catIds if p.useCats else [-1]
            ious = {}
            for k, cat in enumerate(cat_ids):
                for i, img in enumerate(p.imgIds):
                    g = self._ev.group(k, i, 0)
                    if g is None:
                        ious[img, cat] = []
                        continue
                    dets, gts = g[0], g[1]
                    if not (len(dets) and len(gts)):
                        ious[img, cat] = []
                    elif p.iouType == "segm":
                        gr = self.cocoGt._rles()
                        dr = self.cocoDt._rles()
                        gs = np.arange(len(gr))[self._gt_sel][gts]
                        ds = np.arange(len(dr))[self._dt_sel][dets]
                        ious[img, cat] = _C.rle_iou([dr[i] for i in ds], [gr[i] for i in gs], [int(v) for v in gc[gts]])
                    elif p.iouType == "keypoints":
                        g_kp, d_kp, sigmas = self._kpts
                        ga = self._gt_cols.area[self._gt_sel]
                        ious[img, cat] = _C.keypoint_oks(d_kp[dets], g_kp[gts], gb[gts], ga[gts], sigmas)
                    else:
                        ious[img, cat] = _C.bbox_iou_xywh(db[dets], gb[gts], gc[gts])
            self._ious = ious
        return self._ious


def _positions(col, ids):
    """Index of each value of col in the sorted unique list ids, -1 when absent."""
    ids_arr = np.asarray(ids)
    if col.dtype == np.int64 and ids_arr.dtype.kind in "iu" and len(ids_arr):
        hi = int(ids_arr[-1])
        if ids_arr[0] >= 0 and hi <= 4 * (len(col) + len(ids_arr)) + 4096:  # small ids: a table
            table = np.full(hi + 1, -1, dtype=np.int64)
            table[ids_arr] = np.arange(len(ids_arr))
            if len(col) == 0 or (col.min() >= 0 and col.max() <= hi):  # the usual case: one gather
                return table[col]
            inside = (col >= 0) & (col <= hi)
            return np.where(inside, table[np.where(inside, col, 0)], -1)
        pos = np.searchsorted(ids_arr, col)
        pos_c = np.minimum(pos, len(ids_arr) - 1)
        return np.where(ids_arr[pos_c] == col, pos_c, -1).astype(np.int64)
    index = {v: i for i, v in enumerate(ids)}
    return np.fromiter((index.get(v, -1) for v in col), dtype=np.int64, count=len(col))
