using Gateway.Pipeline;

namespace Gateway.Policies.Elements;

/// <summary>
/// <c>set-backend-service</c>: routes the request to a backend entity (<c>backend-id</c>: a single backend, or a pool whose
/// member <c>forward-request</c> picks) or a URL (<c>base-url</c>).
/// </summary>
internal sealed class SetBackendServicePolicy(ElementInfo info, PolicyValue? baseUrl, PolicyValue? backendId) : PolicyElement(info)
{
    public static PolicyElement? Parse(ElementReader reader)
    {
        var baseUrl = reader.Value("base-url");
        var backendId = reader.Value("backend-id");
        reader.Children();
        if ((baseUrl is null) == (backendId is null))
        {
            reader.Error("<set-backend-service> needs exactly one of base-url and backend-id (Service Fabric attributes are not supported)");
            return null;
        }

        return new SetBackendServicePolicy(reader.Info, baseUrl, backendId);
    }

    public override ValueTask<PolicyFlow> ExecuteAsync(RequestContext context, ExecutionFrame frame)
    {
        if (backendId is not null)
        {
            var id = backendId.EvaluateString(context, Name);
            if (string.IsNullOrEmpty(id) || !context.Services.Backends.TryGet(id, out var backend))
            {
                throw new PolicyExecutionException(Name, ErrorReasons.BackendNotFound, $"Backend with id '{id}' could not be found.");
            }

            context.BackendEntity = backend;
            context.Target = (backend as Backends.Backend)?.Target;
        }
        else
        {
            var url = baseUrl!.EvaluateString(context, Name);
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            {
                throw new PolicyExecutionException(Name, ErrorReasons.InvalidBaseUrl, $"'{url}' is not an absolute http or https URL.");
            }

            context.BackendEntity = null;
            context.Target = new Backends.BackendTarget(null, uri);
        }

        return ValueTask.FromResult(PolicyFlow.Continue);
    }
}
