"""``playground.html``: a TensorFlow-Playground-style page to replay project 04's training, epoch by epoch.

One self-contained file (inline style, script and data; nothing is fetched). A slider runs over the
recorded snapshots (epoch 0 = the initial weights) of each task (XOR, two moons); for the chosen epoch the
page draws

* the decision boundary: the plane coloured by p = sigmoid(z) of the network's output z, the p = 0.5
  contour and the training points, with axes and a colour bar;
* the network: every weight an edge (red positive, blue negative, width |w|, on one scale for the whole
  run, with its colour bar), every neuron showing its own activation map;
* each hidden neuron's activation map h_j(x1, x2) on the same plane, one colour bar per layer;
* the loss so far: the full-batch loss up to that epoch (the rest of the run faint), log scale.

The page recomputes the network in JavaScript from the recorded weights: a_0 = x, a_k = f(a_{k-1} W_k +
b_k) for the hidden layers (f the activation), z = a_{L-1} W_L + b_L. The weights are stored at full
precision, so its outputs equal the engine's to rounding (the browser test checks this).

Element ids the browser test uses: ``tasks`` (one button per task, ``data-task``), ``epoch`` (the
slider), ``play``, ``counter``, ``stats``, the canvases ``boundary``, ``network``, ``loss`` and, in
``neurons``, one canvas per hidden neuron. ``window.playground.predict(task, epoch, x1, x2)`` returns p.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from autograd.files import write_text
from viz.page import html_page, json_for_script

GRID_MARGIN = 0.5  # the plane shown: the points' bounding box widened by this (as viz.plots.decision_grid)


def task_data(
    name: str,
    title: str,
    sizes: Sequence[int],
    snapshots: Sequence[dict[str, np.ndarray]],
    losses: Sequence[float],
    accuracies: Sequence[float],
    X: np.ndarray,
    y: np.ndarray,
) -> dict[str, Any]:
    """One task as the page's JSON: its data, and per recorded epoch every layer's W (fan_in x fan_out)
    and b, the loss and the accuracy."""
    layers = len(sizes) - 1
    (x0, y0), (x1, y1) = X.min(axis=0) - GRID_MARGIN, X.max(axis=0) + GRID_MARGIN
    return {
        "name": name,
        "title": title,
        "sizes": [int(s) for s in sizes],
        "X": np.asarray(X, dtype=float).tolist(),
        "y": np.asarray(y, dtype=float).tolist(),
        "box": [float(x0), float(x1), float(y0), float(y1)],
        "weights": [[s[f"net.{2 * k}.weight"].tolist() for k in range(layers)] for s in snapshots],
        "biases": [[s[f"net.{2 * k}.bias"].tolist() for k in range(layers)] for s in snapshots],
        "losses": [float(v) for v in losses],
        "accuracies": [float(v) for v in accuracies],
    }


_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 1rem 1.5rem;
       color: #222; background: #fff; }
h1 { font-size: 1.35rem; margin: 0 0 .3rem 0; }
h2 { font-size: 1rem; margin: .2rem 0 .4rem 0; }
.sub, .note { color: #555; font-size: .9rem; max-width: 70rem; margin: .2rem 0 .6rem 0; }
.controls { display: flex; gap: .7rem; align-items: center; flex-wrap: wrap; margin: .6rem 0 1rem 0;
            position: sticky; top: 0; background: #fff; padding: .4rem 0; z-index: 1;
            border-bottom: 1px solid #eee; }
.controls button { font-size: .95rem; padding: .25rem .8rem; cursor: pointer; }
#tasks button[aria-pressed="true"] { background: #333; color: #fff; border-color: #333; }
#epoch { flex: 1; min-width: 14rem; }
#counter, #stats { font-variant-numeric: tabular-nums; }
#counter { min-width: 8rem; font-weight: 600; }
.row { display: flex; flex-wrap: wrap; gap: 1.2rem; align-items: flex-start; }
.panel { border: 1px solid #e4e4e4; border-radius: 6px; padding: .5rem .7rem; background: #fff; }
#neurons { display: flex; flex-direction: column; gap: .6rem; }
.layer { display: flex; flex-wrap: wrap; gap: .3rem; align-items: flex-start; }
canvas { display: block; }
"""

_SCRIPT = r"""
(function () {
  'use strict';
  const DATA = JSON.parse(document.getElementById('playground-data').textContent);
  const GRID = 64;  // grid points per axis of every map
  // matplotlib's RdBu_r: blue (low) .. white .. red (high)
  const STOPS = ['#053061', '#2166ac', '#4393c3', '#92c5de', '#d1e5f0', '#f7f7f7',
                 '#fddbc7', '#f4a582', '#d6604d', '#b2182b', '#67001f'].map(function (h) {
    return [parseInt(h.slice(1, 3), 16), parseInt(h.slice(3, 5), 16), parseInt(h.slice(5, 7), 16)];
  });
  function rdbu(t) {  // t in [0, 1] -> [r, g, b]
    t = Math.min(1, Math.max(0, isFinite(t) ? t : 0.5)) * (STOPS.length - 1);
    const i = Math.min(Math.floor(t), STOPS.length - 2), f = t - i;
    return [0, 1, 2].map(function (c) {
      return Math.round(STOPS[i][c] + (STOPS[i + 1][c] - STOPS[i][c]) * f);
    });
  }
  function css(rgb) { return 'rgb(' + rgb[0] + ',' + rgb[1] + ',' + rgb[2] + ')'; }
  const ACT = {
    identity: function (x) { return x; },
    sigmoid: function (x) { return 1 / (1 + Math.exp(-x)); },
    tanh: Math.tanh,
    relu: function (x) { return x > 0 ? x : 0; },
    leaky_relu: function (x) { return x > 0 ? x : 0.01 * x; },
    elu: function (x) { return x > 0 ? x : Math.exp(x) - 1; },
    silu: function (x) { return x / (1 + Math.exp(-x)); },
    softplus: function (x) { return Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x))); }
  };
  const act = ACT[DATA.activation];

  // ---- the network ------------------------------------------------------------------------------------
  // every layer's output at (x1, x2): [[x1, x2], hidden 1, ..., [z]]
  function forward(task, epoch, x1, x2) {
    const Ws = task.weights[epoch], bs = task.biases[epoch];
    let a = [x1, x2];
    const out = [a];
    for (let k = 0; k < Ws.length; k++) {
      const W = Ws[k], b = bs[k], last = k === Ws.length - 1, next = [];
      for (let j = 0; j < b.length; j++) {
        let s = b[j];
        for (let i = 0; i < a.length; i++) s += a[i] * W[i][j];
        next.push(last ? s : act(s));
      }
      a = next;
      out.push(a);
    }
    return out;
  }
  function sigmoid(z) { return 1 / (1 + Math.exp(-z)); }
  function predict(taskIndex, epoch, x1, x2) {
    const task = DATA.tasks[taskIndex], layers = forward(task, epoch, x1, x2);
    return sigmoid(layers[layers.length - 1][0]);
  }
  // every neuron's value on the GRID x GRID plane; row 0 is the top (largest x2)
  function maps(task, epoch) {
    const [x0, x1, y0, y1] = task.box, sizes = task.sizes;
    const result = sizes.map(function (n) {
      const layer = [];
      for (let j = 0; j < n; j++) layer.push(new Float64Array(GRID * GRID));
      return layer;
    });
    for (let r = 0; r < GRID; r++) {
      const v = y1 - (y1 - y0) * r / (GRID - 1);
      for (let c = 0; c < GRID; c++) {
        const u = x0 + (x1 - x0) * c / (GRID - 1), layers = forward(task, epoch, u, v);
        for (let l = 0; l < layers.length; l++) {
          for (let j = 0; j < layers[l].length; j++) result[l][j][r * GRID + c] = layers[l][j];
        }
      }
    }
    const output = result[result.length - 1][0];
    for (let i = 0; i < output.length; i++) output[i] = sigmoid(output[i]);  // p, not z
    return result;
  }

  // ---- drawing helpers -------------------------------------------------------------------------------
  function setup(canvas, width, height) {
    const ratio = window.devicePixelRatio || 1;
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
    canvas.style.width = width + 'px';
    canvas.style.height = height + 'px';
    const ctx = canvas.getContext('2d');
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, width, height);
    ctx.font = '11px system-ui, sans-serif';
    return ctx;
  }
  function niceTicks(lo, hi, count) {
    const span = hi - lo;
    if (!(span > 0)) return [lo];
    const raw = span / count, mag = Math.pow(10, Math.floor(Math.log10(raw)));
    const step = [1, 2, 2.5, 5, 10].map(function (m) { return m * mag; })
      .find(function (s) { return s >= raw; });
    const ticks = [];
    for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) {
      ticks.push(Math.abs(t) < step * 1e-9 ? 0 : t);
    }
    return ticks;
  }
  function fmt(v) {
    if (v === 0) return '0';
    const a = Math.abs(v);
    return a >= 1e4 || a < 1e-3 ? v.toExponential(1) : String(Number(v.toPrecision(3)));
  }
  // a value map (GRID x GRID) into the rectangle, colour = rdbu((v - lo) / (hi - lo))
  function paintMap(ctx, values, lo, hi, x, y, w, h) {
    const off = document.createElement('canvas');
    off.width = GRID; off.height = GRID;
    const octx = off.getContext('2d'), img = octx.createImageData(GRID, GRID);
    for (let i = 0; i < values.length; i++) {
      const rgb = rdbu((values[i] - lo) / (hi - lo));
      img.data.set([rgb[0], rgb[1], rgb[2], 255], 4 * i);
    }
    octx.putImageData(img, 0, 0);
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(off, x, y, w, h);
  }
  // axes around the plot rectangle: ticks and labels of the data box [x0, x1] x [y0, y1]
  function axes(ctx, box, x, y, w, h, opts) {
    const [x0, x1, y0, y1] = box, small = opts && opts.small;
    ctx.strokeStyle = '#444'; ctx.lineWidth = 1; ctx.fillStyle = '#333';
    ctx.strokeRect(x + 0.5, y + 0.5, w - 1, h - 1);
    ctx.font = (small ? '9px' : '11px') + ' system-ui, sans-serif';
    const xt = niceTicks(x0, x1, small ? 2 : 5), yt = niceTicks(y0, y1, small ? 2 : 5);
    ctx.textAlign = 'center'; ctx.textBaseline = 'top';
    xt.forEach(function (t) {
      const px = x + (t - x0) / (x1 - x0) * w;
      ctx.beginPath(); ctx.moveTo(px, y + h); ctx.lineTo(px, y + h + 3); ctx.stroke();
      ctx.fillText(fmt(t), px, y + h + 4);
    });
    ctx.textAlign = 'right'; ctx.textBaseline = 'middle';
    yt.forEach(function (t) {
      const py = y + h - (t - y0) / (y1 - y0) * h;
      ctx.beginPath(); ctx.moveTo(x, py); ctx.lineTo(x - 3, py); ctx.stroke();
      ctx.fillText(fmt(t), x - 5, py);
    });
    if (opts && opts.xlabel) {
      ctx.textAlign = 'center'; ctx.textBaseline = 'top';
      ctx.fillText(opts.xlabel, x + w / 2, y + h + (small ? 14 : 18));
    }
    if (opts && opts.ylabel) {
      ctx.save(); ctx.translate(x - (small ? 20 : 34), y + h / 2); ctx.rotate(-Math.PI / 2);
      ctx.textAlign = 'center'; ctx.textBaseline = small ? 'middle' : 'bottom';
      ctx.fillText(opts.ylabel, 0, 0); ctx.restore();
    }
  }
  // a vertical colour bar from lo (bottom) to hi (top) with tick labels and a title
  function colorbar(ctx, lo, hi, x, y, w, h, label) {
    for (let i = 0; i < h; i++) {
      ctx.fillStyle = css(rdbu(1 - i / (h - 1)));
      ctx.fillRect(x, y + i, w, 1);
    }
    ctx.strokeStyle = '#444'; ctx.strokeRect(x + 0.5, y + 0.5, w - 1, h - 1);
    ctx.fillStyle = '#333'; ctx.textAlign = 'left'; ctx.textBaseline = 'middle';
    ctx.font = '10px system-ui, sans-serif';
    [lo, (lo + hi) / 2, hi].forEach(function (t) {
      const py = y + h - (t - lo) / (hi - lo) * h;
      ctx.fillText(fmt(t), x + w + 3, py);
    });
    if (label) {
      ctx.save(); ctx.translate(x + w + 36, y + h / 2); ctx.rotate(Math.PI / 2);
      ctx.textAlign = 'center'; ctx.textBaseline = 'bottom'; ctx.fillText(label, 0, 0); ctx.restore();
    }
  }
  // the 0.5 contour of a GRID x GRID map, by marching squares (linear interpolation on each cell edge)
  function contour(ctx, values, level, x, y, w, h) {
    const sx = w / (GRID - 1), sy = h / (GRID - 1);
    ctx.strokeStyle = '#000'; ctx.lineWidth = 1.6; ctx.beginPath();
    function at(r, c) { return values[r * GRID + c]; }
    for (let r = 0; r < GRID - 1; r++) {
      for (let c = 0; c < GRID - 1; c++) {
        const corners = [[r, c], [r, c + 1], [r + 1, c + 1], [r + 1, c]];
        const points = [];
        for (let e = 0; e < 4; e++) {
          const [ra, ca] = corners[e], [rb, cb] = corners[(e + 1) % 4];
          const va = at(ra, ca) - level, vb = at(rb, cb) - level;
          if ((va < 0) !== (vb < 0)) {
            const t = va / (va - vb);
            points.push([x + (ca + (cb - ca) * t) * sx, y + (ra + (rb - ra) * t) * sy]);
          }
        }
        for (let p = 0; p + 1 < points.length; p += 2) {
          ctx.moveTo(points[p][0], points[p][1]); ctx.lineTo(points[p + 1][0], points[p + 1][1]);
        }
      }
    }
    ctx.stroke();
  }
  function toPixel(box, x, y, w, h, u, v) {
    return [x + (u - box[0]) / (box[1] - box[0]) * w, y + h - (v - box[2]) / (box[3] - box[2]) * h];
  }

  // ---- the panels ------------------------------------------------------------------------------------
  let taskIndex = 0, epoch = 0, cache = null, timer = null;
  const slider = document.getElementById('epoch');
  const counter = document.getElementById('counter');
  const stats = document.getElementById('stats');
  const playButton = document.getElementById('play');

  // the colour scale of each hidden layer: [-m, m], m = the largest |h| over every epoch (tanh: 1)
  function layerLimits(task) {
    const bounded = DATA.activation === 'tanh' || DATA.activation === 'sigmoid', limits = [];
    for (let l = 1; l < task.sizes.length - 1; l++) limits.push(bounded ? 1 : 0);
    if (bounded) return limits;
    for (let e = 0; e < task.weights.length; e += Math.max(1, Math.floor(task.weights.length / 20))) {
      const m = maps(task, e);
      for (let l = 1; l < task.sizes.length - 1; l++) {
        m[l].forEach(function (values) {
          for (let i = 0; i < values.length; i++) {
            limits[l - 1] = Math.max(limits[l - 1], Math.abs(values[i]));
          }
        });
      }
    }
    return limits.map(function (m) { return m > 0 ? m : 1; });
  }
  function weightLimit(task) {
    let m = 0;
    task.weights.forEach(function (Ws) { Ws.forEach(function (W) { W.forEach(function (row) {
      row.forEach(function (v) { m = Math.max(m, Math.abs(v)); }); }); }); });
    return m > 0 ? m : 1;
  }

  function drawBoundary(task, m) {
    const canvas = document.getElementById('boundary'), W = 420, H = 360;
    const ctx = setup(canvas, W, H), x = 48, y = 10, w = 300, h = 300;
    const p = m[m.length - 1][0];
    paintMap(ctx, p, 0, 1, x, y, w, h);
    contour(ctx, p, 0.5, x, y, w, h);
    const small = task.X.length > 20;
    task.X.forEach(function (pt, i) {
      const [px, py] = toPixel(task.box, x, y, w, h, pt[0], pt[1]);
      ctx.beginPath(); ctx.arc(px, py, small ? 3.2 : 7, 0, 2 * Math.PI);
      ctx.fillStyle = task.y[i] > 0.5 ? '#b2182b' : '#2166ac'; ctx.fill();
      ctx.strokeStyle = '#fff'; ctx.lineWidth = 1.2; ctx.stroke();
    });
    axes(ctx, task.box, x, y, w, h, {xlabel: 'x1', ylabel: 'x2'});
    colorbar(ctx, 0, 1, x + w + 14, y, 14, h, 'p = P(class 1)');
  }

  function drawNetwork(task, m) {
    const canvas = document.getElementById('network'), sizes = task.sizes;
    const tallest = Math.max.apply(null, sizes), cell = 46, gapY = 14, colW = 130;
    const W = 60 + colW * (sizes.length - 1) + cell + 90;
    const H = Math.max(260, 40 + tallest * (cell + gapY) + 30);
    const ctx = setup(canvas, W, H), limit = cache.weightLimit;
    function center(l, j) {
      const n = sizes[l], top = 34 + (H - 64 - n * (cell + gapY) + gapY) / 2;
      return [40 + l * colW + cell / 2, top + j * (cell + gapY) + cell / 2];
    }
    const Ws = task.weights[epoch], bs = task.biases[epoch];
    Ws.forEach(function (Wk, k) {  // edges, thin first, so that thick ones lie on top
      const edges = [];
      Wk.forEach(function (row, i) { row.forEach(function (v, j) { edges.push([Math.abs(v), v, i, j]); }); });
      edges.sort(function (a, b) { return a[0] - b[0]; });
      edges.forEach(function (e) {
        const [ax, ay] = center(k, e[2]), [bx, by] = center(k + 1, e[3]);
        ctx.strokeStyle = css(rdbu(0.5 + 0.5 * e[1] / limit)); ctx.lineWidth = 0.4 + 6 * e[0] / limit;
        ctx.beginPath(); ctx.moveTo(ax + cell / 2, ay); ctx.lineTo(bx - cell / 2, by); ctx.stroke();
      });
    });
    ctx.textAlign = 'center'; ctx.textBaseline = 'bottom'; ctx.fillStyle = '#333';
    sizes.forEach(function (n, l) {
      const name = l === 0 ? 'input' : l === sizes.length - 1 ? 'output p' : 'hidden ' + l;
      ctx.fillText(name + ' (' + n + ')', 40 + l * colW + cell / 2, 24);
      for (let j = 0; j < n; j++) {
        // colour ranges: an input shows its own coordinate, a hidden neuron its layer's, the output p
        const [cx, cy] = center(l, j), output = l === sizes.length - 1;
        const lo = l === 0 ? task.box[2 * j] : output ? 0 : -cache.limits[l - 1];
        const hi = l === 0 ? task.box[2 * j + 1] : output ? 1 : cache.limits[l - 1];
        paintMap(ctx, m[l][j], lo, hi, cx - cell / 2, cy - cell / 2, cell, cell);
        ctx.lineWidth = l === 0 ? 1 : 2.5;
        ctx.strokeStyle = l === 0 ? '#444' : css(rdbu(0.5 + 0.5 * bs[l - 1][j] / limit));
        ctx.strokeRect(cx - cell / 2, cy - cell / 2, cell, cell);
        if (l === 0) {
          ctx.fillStyle = '#000'; ctx.textBaseline = 'middle';
          ctx.fillText('x' + (j + 1), cx - cell / 2 - 12, cy); ctx.textBaseline = 'bottom';
        }
      }
    });
    colorbar(ctx, -limit, limit, W - 80, 40, 12, H - 80, 'weight (edges), bias (frames)');
  }

  function drawNeurons(task, m) {
    const holder = document.getElementById('neurons');
    holder.replaceChildren();
    for (let l = 1; l < task.sizes.length - 1; l++) {
      const row = document.createElement('div'), lim = cache.limits[l - 1];
      row.className = 'layer';
      for (let j = 0; j < task.sizes[l]; j++) {
        const canvas = document.createElement('canvas');
        canvas.className = 'neuron'; canvas.dataset.layer = String(l); canvas.dataset.neuron = String(j);
        const ctx = setup(canvas, 134, 140), x = 32, y = 16, w = 96, h = 96;
        ctx.fillStyle = '#333'; ctx.textAlign = 'center'; ctx.textBaseline = 'bottom';
        ctx.fillText('layer ' + l + ', neuron ' + (j + 1), x + w / 2, y - 3);
        paintMap(ctx, m[l][j], -lim, lim, x, y, w, h);
        axes(ctx, task.box, x, y, w, h, {small: true, xlabel: 'x1', ylabel: 'x2'});
        row.appendChild(canvas);
      }
      const legend = document.createElement('canvas');
      legend.className = 'legend';
      const lctx = setup(legend, 90, 140);
      colorbar(lctx, -lim, lim, 8, 16, 12, 96, 'h = ' + DATA.activation + '(...)');
      row.appendChild(legend);
      holder.appendChild(row);
    }
  }

  function drawLoss(task) {
    const canvas = document.getElementById('loss'), W = 420, H = 300;
    const ctx = setup(canvas, W, H), x = 56, y = 12, w = W - 76, h = H - 56;
    const losses = task.losses, n = losses.length - 1;
    const positive = losses.filter(function (v) { return v > 0 && isFinite(v); });
    const lo = Math.log10(Math.min.apply(null, positive)), hi = Math.log10(Math.max.apply(null, positive));
    const y0 = Math.floor(lo * 2) / 2, y1 = Math.max(Math.ceil(hi * 2) / 2, y0 + 0.5);
    function px(e) { return x + e / Math.max(n, 1) * w; }
    function py(v) { return y + h - (Math.log10(Math.max(v, 1e-300)) - y0) / (y1 - y0) * h; }
    function line(from, to, color, width) {
      ctx.strokeStyle = color; ctx.lineWidth = width; ctx.beginPath();
      for (let e = from; e <= to; e++) {
        if (e === from) ctx.moveTo(px(e), py(losses[e])); else ctx.lineTo(px(e), py(losses[e]));
      }
      ctx.stroke();
    }
    line(0, n, '#d0d0d0', 1.2);
    line(0, epoch, '#111', 1.8);
    ctx.fillStyle = '#d62728'; ctx.beginPath();
    ctx.arc(px(epoch), py(losses[epoch]), 4, 0, 2 * Math.PI); ctx.fill();
    ctx.strokeStyle = '#444'; ctx.lineWidth = 1; ctx.strokeRect(x + 0.5, y + 0.5, w - 1, h - 1);
    ctx.fillStyle = '#333'; ctx.font = '11px system-ui, sans-serif';
    ctx.textAlign = 'center'; ctx.textBaseline = 'top';
    niceTicks(0, n, 5).forEach(function (t) {
      ctx.beginPath(); ctx.moveTo(px(t), y + h); ctx.lineTo(px(t), y + h + 3); ctx.stroke();
      ctx.fillText(fmt(t), px(t), y + h + 4);
    });
    ctx.fillText('epoch', x + w / 2, y + h + 20);
    ctx.textAlign = 'right'; ctx.textBaseline = 'middle';
    for (let d = Math.ceil(y0); d <= y1 + 1e-9; d++) {
      const yy = y + h - (d - y0) / (y1 - y0) * h;
      ctx.beginPath(); ctx.moveTo(x, yy); ctx.lineTo(x - 3, yy); ctx.stroke();
      ctx.fillText('1e' + d, x - 5, yy);
    }
    ctx.save(); ctx.translate(x - 42, y + h / 2); ctx.rotate(-Math.PI / 2); ctx.textAlign = 'center';
    ctx.textBaseline = 'bottom'; ctx.fillText('loss (full batch, log scale)', 0, 0); ctx.restore();
  }

  function show() {
    const task = DATA.tasks[taskIndex];
    const m = maps(task, epoch);
    const last = task.losses.length - 1;
    counter.textContent = 'epoch ' + epoch + ' / ' + last;
    stats.textContent = 'loss ' + task.losses[epoch].toPrecision(4) + ' · accuracy ' +
      Math.round(100 * task.accuracies[epoch]) + '%';
    drawBoundary(task, m);
    drawNetwork(task, m);
    drawNeurons(task, m);
    drawLoss(task);
  }
  function selectTask(k) {
    taskIndex = k;
    const task = DATA.tasks[k];
    cache = {limits: layerLimits(task), weightLimit: weightLimit(task)};
    document.querySelectorAll('#tasks button').forEach(function (b) {
      b.setAttribute('aria-pressed', String(Number(b.dataset.task) === k));
    });
    slider.max = String(task.losses.length - 1);
    epoch = Math.min(epoch, task.losses.length - 1);
    slider.value = String(epoch);
    show();
  }
  function stop() {
    if (timer !== null) { clearInterval(timer); timer = null; playButton.textContent = '▶ play'; }
  }
  slider.addEventListener('input', function () { epoch = parseInt(slider.value, 10); show(); });
  document.querySelectorAll('#tasks button').forEach(function (b) {
    b.addEventListener('click', function () { stop(); selectTask(Number(b.dataset.task)); });
  });
  playButton.addEventListener('click', function () {
    if (timer !== null) { stop(); return; }
    const last = DATA.tasks[taskIndex].losses.length - 1;
    if (epoch >= last) epoch = 0;
    playButton.textContent = '❚❚ pause';
    timer = setInterval(function () {
      epoch = Math.min(epoch + Math.max(1, Math.round(last / 60)), last);
      slider.value = String(epoch); show();
      if (epoch >= last) stop();
    }, 120);
  });
  window.playground = {predict: predict, select: selectTask};
  selectTask(0);
})();
"""


def render_playground(tasks: Sequence[dict[str, Any]], activation: str, title: str) -> str:
    """The page for ``tasks`` (see :func:`task_data`), networks with hidden activation ``activation``."""
    buttons = "".join(
        f'<button type="button" data-task="{k}" aria-pressed="{str(k == 0).lower()}">'
        f"{html.escape(t['title'])} ({'-'.join(map(str, t['sizes']))})</button>"
        for k, t in enumerate(tasks)
    )
    data = json_for_script({"activation": activation, "tasks": list(tasks)})
    body = f"""<h1>{html.escape(title)}</h1>
<p class="sub">Drag the slider (or press play) to replay training epoch by epoch; epoch 0 is the untrained
network. Every picture is recomputed from the weights recorded after that epoch. Red is positive (class 1),
blue negative (class 0); white is 0 (a neuron) or p = 0.5 (the output).</p>
<div class="controls">
<span id="tasks">{buttons}</span>
<button id="play" type="button">&#9654; play</button>
<input id="epoch" type="range" min="0" max="0" value="0" step="1" aria-label="epoch">
<span id="counter">epoch 0</span>
<span id="stats"></span>
</div>
<div class="row">
<div class="panel"><h2>Decision boundary</h2><canvas id="boundary"></canvas>
<p class="note">The plane coloured by the network's output p; black line: p = 0.5;<br>dots: the
training points, coloured by their true class.</p></div>
<div class="panel"><h2>Loss so far</h2><canvas id="loss"></canvas>
<p class="note">Black: up to this epoch; grey: the rest of the run.</p></div>
</div>
<div class="row" style="margin-top:1rem">
<div class="panel"><h2>The network</h2><canvas id="network"></canvas>
<p class="note">Each square is a neuron's output over the plane above (inputs: x1 and x2 themselves).
Edges are weights: colour and width by value, one scale for the whole run, so you see them grow.</p></div>
</div>
<div class="panel" style="margin-top:1rem"><h2>Each hidden neuron's activation h(x1, x2)</h2>
<p class="note">A neuron of the first hidden layer can only draw a straight line (its weighted sum is
linear in x1, x2); later layers combine those lines into curves.</p>
<div id="neurons"></div></div>
<script type="application/json" id="playground-data">{data}</script>
<script>{_SCRIPT}</script>"""
    return html_page(title, _STYLE, body)


def write_playground(
    tasks: Sequence[dict[str, Any]], activation: str, path: str | Path, title: str = ""
) -> Path:
    """Write the page atomically to ``path`` and return it."""
    path = Path(path)
    write_text(path, render_playground(tasks, activation, title or "Project 04: training playground"))
    return path
