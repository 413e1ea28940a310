// Package cityd is the city's service (cmd/cityd) over the city's
// PostgreSQL database (package city), to which every office's queued ships
// its record and its current status:
//
//   - GET / is the public status page of every centre (Ukrainian first,
//     English on request): open or not, how many wait in each service
//     group and how long, how many windows are open, and how fresh the
//     centre's data is; it reads GET /api/v1/city/status every 5 s on the
//     page clock (package pageclock). The API answers any site's GET
//     (Access-Control-Allow-Origin: *).
//   - GET /city/reports/ and GET /api/v1/city/stats compare the centres
//     for supervisors, behind sign-in (package queue/access, the same
//     accounts and tokens as queued's, in cityd's own access.json; scope
//     stats): the figures, CSV and charts of package queue/stats
//     (ComputeOffices), so a centre's figures here are the ones its own
//     queued gives for the same events.
//   - GET /metrics is Prometheus' exposition (metrics.go), behind the
//     stats scope as queued's.
//
// Several cityd may serve one database: they keep nothing of their own but
// the accounts and the sessions.
//
// This package never answers with a booking code, a visitor's data or an
// operator's name on the public side (the record has none of the first
// two, and operators show only behind sign-in), nor an internal error's
// text.
package cityd
