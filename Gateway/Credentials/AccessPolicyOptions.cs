namespace Gateway.Credentials;

/// <summary>One access policy of a connection: the Microsoft Entra identity (object and tenant) it lets use the connection.</summary>
internal sealed class AccessPolicyOptions
{
    /// <summary>The identity's object id, the <c>oid</c> claim of its tokens.</summary>
    public string? ObjectId { get; set; }

    /// <summary>The identity's tenant id, the <c>tid</c> claim of its tokens.</summary>
    public string? TenantId { get; set; }
}
