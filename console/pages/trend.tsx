import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { ErrorNotice, Facts, Loading, SelectField, useLoad } from '../components.tsx';
import { shortHash } from '../format.ts';
import { href, type TrendFilters } from '../route.ts';
import { chartModel, chartSummary, commitSets, SERIES_PER_SET, versionSets, type ChartModel, type ChartSet } from '../trend-chart.ts';
import type { Trend } from '../types.ts';

/**
 * A pipeline's metric over the default branch's heads and over dataset versions, as the trend route
 * answers it (nothing else is loaded): per parameter point its value, its baseline and tolerance
 * band, and the regressed points marked with a triangle. Each chart has a text alternative (a
 * summary, the regressed points as links, and every value in a table).
 */
export function TrendPage({ name, filters }: { name: string; filters: TrendFilters }) {
  const loaded = useLoad(`trend ${name} ${JSON.stringify(filters)}`, (api) => api.get<Trend>(`pipelines/${encodeURIComponent(name)}/trend`, { ...filters }));
  return (
    <>
      <nav aria-label="Breadcrumb" class="crumbs">
        <a href={href.evaluations()}>Evaluations</a> › <a href={href.evaluations({ pipeline: name })}>{name}</a> › <span aria-current="page">Trend</span>
      </nav>
      <h1>Trend of pipeline {name}</h1>
      {loaded.state === 'loading' ? <Loading what="the trend" /> : null}
      {loaded.state === 'failed' ? (
        <>
          <ErrorNotice error={loaded.error} />
          {Object.keys(filters).length > 0 ? (
            <p>
              <a href={href.trend(name)}>Show the pipeline’s first metric instead</a>
            </p>
          ) : null}
        </>
      ) : null}
      {loaded.state === 'done' ? <TrendDetails name={name} trend={loaded.value} filters={filters} /> : null}
    </>
  );
}

function TrendDetails({ name, trend, filters }: { name: string; trend: Trend; filters: TrendFilters }) {
  const goal = trend.goal === 'min' ? 'lower is better' : 'higher is better';
  const { absolute, relative } = trend.tolerance;
  const over = { metric: trend.metric };
  const commits = useMemo(() => commitSets(trend), [trend]);
  const versions = useMemo(() => versionSets(trend), [trend]);
  return (
    <>
      <p class="lede">
        <strong>{trend.metric}</strong> ({goal}) on <strong>{trend.dataset}</strong>. The band around each baseline is what the tolerance allows (±{absolute} + {relative * 100}% of the
        baseline); a point outside it on the wrong side is a regression, marked ▲.
      </p>
      <Controls name={name} trend={trend} filters={filters} />
      <section aria-labelledby="trend-commits">
        <h2 id="trend-commits">Over the default branch of {trend.repository}</h2>
        <p class="muted">
          Each head of the default branch, oldest first, on {trend.dataset} version {trend.commits.version}.
        </p>
        <TrendView id="commits" sets={commits} over={{ ...over, over: `over the default branch of ${trend.repository} on ${trend.dataset} version ${trend.commits.version}` }} xName="Commit" />
      </section>
      <section aria-labelledby="trend-versions">
        <h2 id="trend-versions">Over dataset versions</h2>
        <p class="muted">
          {trend.versions.sha ? (
            <>
              The newest head, <code>{shortHash(trend.versions.sha, 7)}</code>, on every version of {trend.dataset} it was evaluated on.
            </>
          ) : (
            'No head of the default branch has been reported yet.'
          )}
        </p>
        <TrendView id="versions" sets={versions} over={{ ...over, over: `over the versions of ${trend.dataset}` }} xName="Version" />
      </section>
    </>
  );
}

/** Which metric, dataset, repository and version: the hash keeps them, so a link shows the same trend. */
function Controls({ name, trend, filters }: { name: string; trend: Trend; filters: TrendFilters }) {
  const [draft, setDraft] = useState<TrendFilters>({ metric: trend.metric, dataset: trend.dataset, repository: trend.repository, ...(filters.version ? { version: filters.version } : {}) });
  const set = (field: keyof TrendFilters) => (event: Event) => setDraft({ ...draft, [field]: (event.currentTarget as HTMLInputElement).value.trim() || undefined });
  const choose = (field: keyof TrendFilters) => (value: string | undefined) => setDraft({ ...draft, [field]: value });
  const submit = (event: Event) => {
    event.preventDefault();
    location.hash = href.trend(name, draft);
  };
  return (
    <form class="filters" onSubmit={submit} aria-label="Choose the trend">
      <SelectField
        id="trend-metric"
        label="Metric"
        value={draft.metric}
        choices={trend.metrics.map((m) => [m.name, `${m.name} (${m.goal === 'min' ? 'lower is better' : 'higher is better'})`] as const)}
        onChange={choose('metric')}
      />
      <SelectField id="trend-dataset" label="Dataset" value={draft.dataset} choices={trend.datasets} onChange={choose('dataset')} />
      <SelectField id="trend-repository" label="Default branch of" value={draft.repository} choices={trend.repositories} onChange={choose('repository')} />
      <div class="field">
        <label for="trend-version">Dataset version (commits)</label>
        <input id="trend-version" type="text" inputMode="numeric" pattern="[1-9][0-9]*" placeholder="latest" size={8} value={draft.version ?? ''} onInput={set('version')} />
      </div>
      <button type="submit">Show trend</button>
    </form>
  );
}

const palette = ['#0a4fb3', '#b35c00', '#1f7a3a', '#7b2fa8', '#00727a', '#a3153e'];
const colourOf = (set: number) => palette[set % palette.length]!;
/** The colour with an alpha, for the band's shading. */
const shade = (hex: string, alpha: number) => `${hex}${Math.round(alpha * 255).toString(16).padStart(2, '0')}`;
const REGRESSED = '#8f1616';

/** One view: the chart (when there is anything to draw), its legend, the regressed points and the table. */
function TrendView({ id, sets, over, xName }: { id: string; sets: ChartSet[]; over: { metric: string; over: string }; xName: string }) {
  const model = useMemo(() => chartModel(sets), [sets]);
  if (model.labels.length === 0) return <p class="muted">No succeeded evaluation has a value of {over.metric} here yet.</p>;
  const summary = chartSummary(model, over);
  return (
    <>
      <figure class="trend" aria-labelledby={`trend-${id}-caption`}>
        <Chart model={model} label={summary} xName={xName} />
        <figcaption id={`trend-${id}-caption`}>
          <Legend sets={sets} />
        </figcaption>
      </figure>
      {model.regressed.length > 0 ? (
        <div class="notice error">
          <h3 class="notice-title">
            {model.regressed.length === 1 ? 'One regressed point' : `${model.regressed.length} regressed points`} ▲
          </h3>
          <ul>
            {model.regressed.map((r) => (
              <li key={r.evaluationId}>
                {model.sets[r.set]!.name} at {xName.toLowerCase()} <code>{model.labels[r.x]}</code>: <a href={href.evaluation(r.evaluationId)}>evaluation {r.evaluationId}</a>
              </li>
            ))}
          </ul>
        </div>
      ) : null}
      <details class="trend-data">
        <summary>Every value, point by point</summary>
        <PointTable id={id} model={model} xName={xName} metric={over.metric} />
      </details>
    </>
  );
}

function Legend({ sets }: { sets: readonly ChartSet[] }) {
  return (
    <ul class="legend">
      {sets.map((set, s) => (
        <li key={set.name}>
          <span class="swatch line" style={{ borderColor: colourOf(s) }} aria-hidden="true" /> {set.name}{' '}
          <span class="swatch baseline" style={{ borderColor: colourOf(s) }} aria-hidden="true" /> its baseline{' '}
          <span class="swatch band" style={{ backgroundColor: shade(colourOf(s), 0.18) }} aria-hidden="true" /> tolerance band
        </li>
      ))}
      <li>
        <span class="marker-regressed" aria-hidden="true">
          ▲
        </span>{' '}
        regressed (outside the band, on the wrong side)
      </li>
    </ul>
  );
}

function PointTable({ id, model, xName, metric }: { id: string; model: ChartModel; xName: string; metric: string }) {
  const number = (v: number | undefined) => (v === undefined ? '—' : String(Number(v.toPrecision(6))));
  return (
    <table id={`trend-${id}-table`}>
      <caption>Values of {metric}, by parameter point, oldest first</caption>
      <thead>
        <tr>
          <th scope="col">Parameters</th>
          <th scope="col">{xName}</th>
          <th scope="col" class="num">
            Value
          </th>
          <th scope="col" class="num">
            Baseline
          </th>
          <th scope="col">Tolerance band</th>
          <th scope="col">Verdict</th>
          <th scope="col">Evaluation</th>
        </tr>
      </thead>
      <tbody>
        {model.sets.flatMap((set) =>
          set.points.map((p) => (
            <tr key={p.evaluationId} class={p.regressed ? 'regressed' : undefined}>
              <th scope="row">{set.name}</th>
              <td>
                <code>{p.label}</code>
              </td>
              <td class="num">{number(p.value)}</td>
              <td class="num">{number(p.base)}</td>
              <td>{p.band ? `${number(p.band.low)} to ${number(p.band.high)}` : '—'}</td>
              <td>{p.regressed ? <strong class="badge verdict-regressed">▲ Regressed</strong> : (p.verdict ?? '—')}</td>
              <td>
                <a href={href.evaluation(p.evaluationId)}>
                  {p.evaluationId}
                  <span class="visually-hidden">
                    {' '}
                    ({set.name} at {p.label})
                  </span>
                </a>
              </td>
            </tr>
          )),
        )}
      </tbody>
    </table>
  );
}

/** The uPlot chart: drawn once per model, resized with its container; a click opens the nearest point's evaluation. */
function Chart({ model, label, xName }: { model: ChartModel; label: string; xName: string }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const element = box.current!;
    const width = () => Math.max(320, element.clientWidth);
    const series: uPlot.Series[] = [{ label: xName }];
    // The baseline and band series are drawn as marks per point (drawBaselines), not as lines: a
    // baseline belongs to one head, and heads without one leave gaps. They stay series so that the
    // y scale takes them in.
    const hidden = { stroke: 'transparent', width: 0, points: { show: false } };
    model.sets.forEach((set, s) => {
      const colour = colourOf(s);
      series.push(
        { label: set.name, stroke: colour, width: 2, points: { show: true, size: 6, fill: colour } },
        { label: `${set.name}: baseline`, ...hidden },
        { label: `${set.name}: band low`, ...hidden },
        { label: `${set.name}: band high`, ...hidden },
      );
    });
    const plot = new uPlot(
      {
        width: width(),
        height: 300,
        series,
        legend: { show: false },
        cursor: { drag: { x: false, y: false } },
        scales: { x: { time: false, range: () => [-0.5, model.labels.length - 0.5] } },
        axes: [
          {
            incrs: [1, 2, 5, 10, 20, 50, 100],
            values: (_u, splits) => splits.map((v) => (Number.isInteger(v) ? (model.labels[v] ?? '') : '')),
            stroke: '#4f5863',
          },
          { stroke: '#4f5863', size: 60 },
        ],
        hooks: { drawAxes: [(u) => drawBaselines(u, model)], draw: [(u) => drawRegressed(u, model)] },
      },
      model.data as uPlot.AlignedData,
      element,
    );
    const open = () => {
      const idx = plot.cursor.idx;
      const top = plot.cursor.top;
      if (idx === null || idx === undefined || top === undefined) return;
      let best: { id: string; distance: number } | undefined;
      model.sets.forEach((set, s) => {
        const value = model.data[1 + s * SERIES_PER_SET]![idx];
        const point = set.points.find((p) => p.label === model.labels[idx]);
        if (value === null || value === undefined || !point) return;
        const distance = Math.abs(plot.valToPos(value, 'y') - top);
        if (!best || distance < best.distance) best = { id: point.evaluationId, distance };
      });
      if (best) location.hash = href.evaluation(best.id);
    };
    plot.over.addEventListener('click', open);
    const resized = () => plot.setSize({ width: width(), height: 300 });
    addEventListener('resize', resized);
    return () => {
      removeEventListener('resize', resized);
      plot.destroy();
    };
  }, [model]);
  return <div class="chart" ref={box} role="img" aria-label={label} />;
}

/** Under the lines, at each point with a baseline: the tolerance band shaded, the baseline dashed across it. */
function drawBaselines(u: uPlot, model: ChartModel): void {
  const ctx = u.ctx;
  const ratio = devicePixelRatio;
  const step = model.labels.length > 1 ? Math.abs(u.valToPos(1, 'x', true) - u.valToPos(0, 'x', true)) : u.bbox.width;
  const half = Math.min(step * 0.3, 40 * ratio);
  ctx.save();
  ctx.beginPath();
  ctx.rect(u.bbox.left, u.bbox.top, u.bbox.width, u.bbox.height);
  ctx.clip();
  model.sets.forEach((_set, s) => {
    const colour = colourOf(s);
    const first = 1 + s * SERIES_PER_SET;
    const [base, low, high] = [model.data[first + 1]!, model.data[first + 2]!, model.data[first + 3]!];
    model.labels.forEach((_label, i) => {
      const x = u.valToPos(i, 'x', true);
      const [lo, hi, b] = [low[i], high[i], base[i]];
      if (lo !== null && lo !== undefined && hi !== null && hi !== undefined) {
        const top = u.valToPos(hi, 'y', true);
        ctx.fillStyle = shade(colour, 0.18);
        ctx.fillRect(x - half, top, 2 * half, u.valToPos(lo, 'y', true) - top);
      }
      if (b !== null && b !== undefined) {
        const y = u.valToPos(b, 'y', true);
        ctx.strokeStyle = colour;
        ctx.lineWidth = 1.5 * ratio;
        ctx.setLineDash([6 * ratio, 4 * ratio]);
        ctx.beginPath();
        ctx.moveTo(x - half, y);
        ctx.lineTo(x + half, y);
        ctx.stroke();
      }
    });
  });
  ctx.restore();
}

/** A triangle over each regressed point: a shape, so that colour is not the only sign. */
function drawRegressed(u: uPlot, model: ChartModel): void {
  const ctx = u.ctx;
  const size = 7 * devicePixelRatio;
  ctx.save();
  ctx.fillStyle = REGRESSED;
  ctx.strokeStyle = '#fff';
  ctx.lineWidth = 1.5 * devicePixelRatio;
  for (const r of model.regressed) {
    const x = u.valToPos(r.x, 'x', true);
    const y = u.valToPos(r.y, 'y', true) - size * 1.6;
    ctx.beginPath();
    ctx.moveTo(x, y - size);
    ctx.lineTo(x + size, y + size * 0.8);
    ctx.lineTo(x - size, y + size * 0.8);
    ctx.closePath();
    ctx.fill();
    ctx.stroke();
  }
  ctx.restore();
}
