// Thin handlers over the OAuth service: parameters from the query or a form body, redirects,
// and the OAuth2 JSON answers (tokens, or {"error", "error_description"}). The calls to the
// providers wait on them: they run on the outbound pool.
#include "http/api/oauth_routes.hpp"

#include <string>

namespace rainmaker::http::api {

using domain::users::OAuthFailure;
using domain::users::OAuthService;

namespace {

// Form-encoded parameters (a body, or OAuth's queries): '+' is a space there.
QueryParams FormOf(const std::string& body) {
    std::string raw;
    raw.reserve(body.size());
    for (const char c : body) {
        raw += c == '+' ? std::string("%20") : std::string(1, c);
    }
    return QueryParams(raw);
}

// Member `key` of the form body, else of the query (the SDK sends /token's in the query).
std::optional<std::string> Param(
    const QueryParams& query, const QueryParams& form, std::string_view key
) {
    if (auto v = form.Text(key)) {
        return v;
    }
    return query.Text(key);
}

ApiResponse Redirect(const std::string& location, int status = 302) {
    auto response = ApiResponse::Text("", "text/plain", status);
    response.headers.emplace_back("Location", location);
    response.headers.emplace_back("Cache-Control", "no-store");
    return response;
}

// An OAuth failure as the protocol answers it: back to the app, or the JSON error.
ApiResponse Answer(const OAuthFailure& f) {
    if (!f.redirect.empty()) {
        return Redirect(f.redirect);
    }
    auto response = ApiResponse::Json(
        boost::json::object{{"error", f.error}, {"error_description", f.what()}}, f.status
    );
    response.headers.emplace_back("Cache-Control", "no-store");
    return response;
}

template <typename Handler>
auto OAuth(Handler handler) {
    return [handler](const ApiRequest& r) -> ApiResponse {
        try {
            return handler(r);
        } catch (const OAuthFailure& f) {
            return Answer(f);
        }
    };
}

// GET /authorize?identity_provider=&client_id=&redirect_uri=&response_type=code&state=
ApiResponse Authorize(const ApiRequest& r, OAuthService& oauth) {
    const auto query = FormOf(r.raw_query);
    domain::users::AuthorizeInput in;
    in.identity_provider = query.Text("identity_provider");
    in.client_id = query.Text("client_id");
    in.redirect_uri = query.Text("redirect_uri");
    in.response_type = query.Text("response_type");
    in.state = query.Text("state");
    in.code_challenge = query.Text("code_challenge");
    in.code_challenge_method = query.Text("code_challenge_method");
    return Redirect(oauth.Authorize(in));
}

// Catalog #116 GET and POST /cognitocallback: code, state, error in the query or (form_post)
// the body; answered with a 301 to the app, as the reference's service does.
ApiResponse Callback(const ApiRequest& r, OAuthService& oauth) {
    const auto form = FormOf(r.body);
    const auto query = FormOf(r.raw_query);
    domain::users::CallbackInput in;
    in.code = Param(query, form, "code");
    in.state = Param(query, form, "state");
    in.error = Param(query, form, "error");
    try {
        return Redirect(oauth.Callback(in), 301);
    } catch (const OAuthFailure& f) {
        if (!f.redirect.empty()) {
            return Redirect(f.redirect, 301);
        }
        throw;
    }
}

// Catalog #117 POST /token (form-encoded; client credentials in it or HTTP Basic)
ApiResponse Token(const ApiRequest& r, OAuthService& oauth) {
    const auto form = FormOf(r.body);
    const auto query = FormOf(r.raw_query);
    domain::users::TokenInput in;
    in.grant_type = Param(query, form, "grant_type");
    in.code = Param(query, form, "code");
    in.redirect_uri = Param(query, form, "redirect_uri");
    in.client_id = Param(query, form, "client_id");
    in.client_secret = Param(query, form, "client_secret");
    in.refresh_token = Param(query, form, "refresh_token");
    in.code_verifier = Param(query, form, "code_verifier");
    const auto t = oauth.Token(in, r.authorization);
    auto response = ApiResponse::Json(boost::json::object{
        {"access_token", t.access_token},
        {"id_token", t.id_token},
        {"refresh_token", t.refresh_token},
        {"token_type", "Bearer"},
        {"expires_in", t.expires_in}});
    response.headers.emplace_back("Cache-Control", "no-store");
    return response;
}

}  // namespace

void AddOAuthRoutes(Router& router, OAuthService& oauth) {
    const auto pub = Access::kPublic;
    const auto out = Execution::kOutbound;  // the callback waits on the provider
    const auto on = [&oauth](auto handler) {
        return OAuth([&oauth, handler](const ApiRequest& r) { return handler(r, oauth); });
    };
    router.Add("GET", "/authorize", pub, on(Authorize));
    router.Add("GET", "/cognitocallback", pub, on(Callback), out);
    router.Add("POST", "/cognitocallback", pub, on(Callback), out);
    router.Add("POST", "/token", pub, on(Token));
}

}  // namespace rainmaker::http::api
