// The time-series reads: #66/#67 (tsdata) and #68/#69 (simple_tsdata), user and admin.
#pragma once

#include "domain/timeseries/timeseries_service.hpp"
#include "http/server/router.hpp"

namespace rainmaker::http::api {

void AddTimeSeriesRoutes(Router& router, domain::timeseries::TimeSeriesService& series);

}  // namespace rainmaker::http::api
