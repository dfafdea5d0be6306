// PromQL, LogQL and TraceQL live here.
