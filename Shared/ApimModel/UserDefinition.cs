namespace Gateway.Apim.Model;

/// <summary>A user of API Management who owns subscriptions (the <c>users</c> of <c>apim/subscriptions.json</c>).</summary>
/// <param name="Id">The user's id, which a subscription's <c>ownerId</c> names.</param>
/// <param name="Email">The user's email, also their identity with the basic provider.</param>
/// <param name="FirstName">First name.</param>
/// <param name="LastName">Last name.</param>
/// <param name="Note">A note about the user.</param>
/// <param name="RegistrationDate">When the user registered (UTC).</param>
/// <param name="Groups">Group ids: <c>administrators</c>, <c>developers</c>, <c>guests</c> or a custom group's.</param>
internal sealed record UserDefinition(
    string Id,
    string? Email,
    string? FirstName,
    string? LastName,
    string? Note = null,
    DateTime? RegistrationDate = null,
    IReadOnlyList<string>? Groups = null)
{
    public static IReadOnlyList<UserDefinition> Load(string apimPath)
    {
        var path = Path.Combine(apimPath, SubscriptionDefinition.FileName);
        var users = ApimJson.Read<UsersDocument>(path).Users ?? [];
        var ids = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var user in users)
        {
            if (string.IsNullOrWhiteSpace(user.Id) || !ids.Add(user.Id))
            {
                throw new ApimArtifactException(path, $"user id '{user.Id}' is empty or repeated");
            }
        }

        return users;
    }

    private sealed record UsersDocument(IReadOnlyList<UserDefinition>? Users);
}
