// Thin handlers over the time-series service: the query string in, ts_data out.
#include "http/api/timeseries_routes.hpp"

#include "core/error.hpp"
#include "core/json.hpp"

namespace rainmaker::http::api {

using core::ApiError;
using core::ErrorCode;
using domain::timeseries::TimeSeriesService;
using domain::timeseries::TsPage;
using domain::timeseries::TsValue;

namespace {

int NumRecords(const ApiRequest& r) {
    const int n = r.query.Int("num_records", 200);
    if (n < 1 || n > 200) {
        throw ApiError(
            ErrorCode::kInvalidQuery, "Invalid query param: num_records must be 1 to 200"
        );
    }
    return n;
}

boost::json::value Json(const TsValue& value, domain::timeseries::TsType type) {
    if (const auto* d = std::get_if<double>(&value)) {
        return *d;
    }
    if (const auto* i = std::get_if<std::int64_t>(&value)) {
        return *i;
    }
    if (const auto* b = std::get_if<bool>(&value)) {
        return *b;
    }
    const auto& text = std::get<std::string>(value);
    if (type == domain::timeseries::TsType::kObject || type == domain::timeseries::TsType::kArray) {
        if (auto parsed = core::ParseUntrustedJson(text, core::kMaxJsonDepth)) {
            return std::move(*parsed);
        }
    }
    return boost::json::string(text);
}

// {"ts_data": [{node_id, params: [{param_name, values, num_records}], next_id, ...}]}
boost::json::object Answer(const TsPage& page, bool aggregated) {
    boost::json::array values;
    for (const auto& v : page.values) {
        values.push_back(boost::json::object{{"ts", v.ts}, {"val", Json(v.val, page.type)}});
    }
    boost::json::object param{
        {"param_name", page.param_name},
        {"values", std::move(values)},
        {"num_records", page.values.size()}};
    boost::json::object entry{
        {"node_id", page.node_id}, {"params", boost::json::array{std::move(param)}}};
    if (page.next_id) {
        entry["next_id"] = *page.next_id;
    }
    if (aggregated) {
        entry["aggregate"] = std::string(domain::timeseries::AggregateName(page.aggregate));
        entry["timezone"] = page.timezone;
        entry["differential"] = page.differential;
        entry["reset_on_negative"] = page.reset_on_negative;
    }
    return boost::json::object{{"ts_data", boost::json::array{std::move(entry)}}};
}

// Catalog #66 GET /{version}/user/nodes/tsdata and #67 GET /{version}/admin/nodes/tsdata.
ApiResponse GetTsData(const ApiRequest& r, TimeSeriesService& series, bool admin) {
    domain::timeseries::TsQueryInput in;
    in.node_id = r.query.Text("node_id").value_or("");
    in.param_name = r.query.Text("param_name").value_or("");
    in.aggregate = r.query.Text("aggregate");
    in.aggregation_interval = r.query.Text("aggregation_interval");
    in.type = r.query.Text("type");
    in.week_start = r.query.Text("week_start");
    in.timezone = r.query.Text("timezone");
    in.start_time = r.query.Text("start_time");
    in.end_time = r.query.Text("end_time");
    in.num_intervals = r.query.Text("num_intervals");
    in.start_id = r.query.Text("start_id");
    in.differential = r.query.Bool("differential", false);
    in.reset_on_negative = r.query.Bool("reset_on_negative", false);
    in.desc_order = r.query.Bool("desc_order", false);
    in.num_records = NumRecords(r);
    return ApiResponse::Json(Answer(series.Query(r.Caller(), in, admin), true));
}

// Catalog #68 GET /{version}/user/nodes/simple_tsdata and #69 GET /{version}/admin/nodes/
// simple_tsdata. The reference names the type `data_type`; the SDK sends `type`.
ApiResponse GetSimpleTsData(const ApiRequest& r, TimeSeriesService& series, bool admin) {
    domain::timeseries::SimpleQueryInput in;
    in.node_id = r.query.Text("node_id").value_or("");
    in.param_name = r.query.Text("param_name").value_or("");
    if (const auto* type = r.query.FindAny({"data_type", "type"})) {
        in.data_type = *type;
    }
    in.start_time = r.query.Text("start_time");
    in.end_time = r.query.Text("end_time");
    in.start_id = r.query.Text("start_id");
    in.desc_order = r.query.Bool("desc_order", false);
    in.num_records = NumRecords(r);
    return ApiResponse::Json(Answer(series.QuerySimple(r.Caller(), in, admin), false));
}

}  // namespace

void AddTimeSeriesRoutes(Router& router, TimeSeriesService& series) {
    auto& s = series;
    router.Add("GET", "/v1/user/nodes/tsdata", Access::kUser, [&s](const ApiRequest& r) {
        return GetTsData(r, s, false);
    });
    router.Add("GET", "/v1/admin/nodes/tsdata", Access::kAdmin, [&s](const ApiRequest& r) {
        return GetTsData(r, s, true);
    });
    router.Add("GET", "/v1/user/nodes/simple_tsdata", Access::kUser, [&s](const ApiRequest& r) {
        return GetSimpleTsData(r, s, false);
    });
    router.Add("GET", "/v1/admin/nodes/simple_tsdata", Access::kAdmin, [&s](const ApiRequest& r) {
        return GetSimpleTsData(r, s, true);
    });
}

}  // namespace rainmaker::http::api
