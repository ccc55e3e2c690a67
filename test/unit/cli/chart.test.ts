import { ChartInput, renderSuccessRateSvg, successRateChartSpec } from "../../../cli/switch/chart";

const T0 = Date.parse("2025-12-18T05:00:00Z");

const INPUT: ChartInput = {
  title: "Success rate per second, sidecar → ambient",
  origin: T0,
  series: [
    {
      name: "zone-a",
      buckets: [
        { second: 0, requests: 20, ok: 20 },
        { second: 1, requests: 20, ok: 14 },
        { second: 2, requests: 0, ok: 0 },
        { second: 3, requests: 20, ok: 20 },
      ],
    },
    {
      name: "zone-b",
      buckets: [
        { second: 0, requests: 20, ok: 20 },
        { second: 1, requests: 20, ok: 20 },
      ],
    },
    {
      name: "total",
      buckets: [
        { second: 0, requests: 40, ok: 40 },
        { second: 1, requests: 40, ok: 34 },
      ],
    },
  ],
  markers: [
    { label: "up start", at: T0 + 500 },
    { label: "up end", at: T0 + 2500 },
  ],
  upWindow: { start: T0 + 500, end: T0 + 2500 },
};

interface Layer {
  mark: { type: string };
  data: { values: Record<string, unknown>[] };
}

describe("successRateChartSpec", () => {
  const spec = successRateChartSpec(INPUT) as unknown as { layer: Layer[]; title: string };
  const line = spec.layer.find((layer) => layer.mark.type === "line")!;

  it("plots each zone and the total as a per-second success rate in percent", () => {
    expect(line.data.values).toContainEqual({
      second: 1,
      series: "zone-a",
      rate: 70,
      requests: 20,
      failed: 6,
    });
    expect(line.data.values).toContainEqual({
      second: 1,
      series: "total",
      rate: 85,
      requests: 40,
      failed: 6,
    });
    expect(new Set(line.data.values.map((row) => row.series))).toEqual(
      new Set(["zone-a", "zone-b", "total"]),
    );
  });

  it("leaves out seconds without requests rather than drawing them as 0 %", () => {
    expect(line.data.values.filter((row) => row.series === "zone-a").map((row) => row.second)).toEqual([
      0, 1, 3,
    ]);
  });

  it("marks up's start and end at their second, and shades the window", () => {
    const rule = spec.layer.find((layer) => layer.mark.type === "rule")!;
    expect(rule.data.values).toEqual([
      { second: 0.5, label: "up start" },
      { second: 2.5, label: "up end" },
    ]);
    expect(spec.layer.find((layer) => layer.mark.type === "rect")?.data.values).toEqual([
      { from: 0.5, to: 2.5 },
    ]);
  });
});

describe("renderSuccessRateSvg", () => {
  it("renders a standalone SVG with the title, every series in the legend and the markers", async () => {
    const svg = await renderSuccessRateSvg(INPUT);
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg).toContain('xmlns="http://www.w3.org/2000/svg"');
    for (const text of [
      "Success rate per second, sidecar → ambient",
      "zone-a",
      "zone-b",
      "total",
      "up start",
      "up end",
      "success rate (%)",
    ]) {
      expect(svg).toContain(text);
    }
    expect(svg.match(/<path[^>]*class="[^"]*"|<path /g)?.length).toBeGreaterThan(3);
  });
});
