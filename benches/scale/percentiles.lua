-- wrk reports p50/p75/p90/p99; the scale benchmark wants p95 too.
done = function(summary, latency, requests)
  io.write(string.format("requests=%d errors=%d p50_ms=%.2f p95_ms=%.2f p99_ms=%.2f\n",
    summary.requests,
    summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.status + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000))
end
