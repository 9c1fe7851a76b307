using System.ComponentModel.DataAnnotations;

namespace Gateway.Admin;

/// <summary>The gateway's admin endpoints (<c>Gateway:AdminKey</c>); without a key they do not exist.</summary>
internal sealed class AdminOptions
{
    public const string SectionName = "Gateway";

    /// <summary>The key callers present in <see cref="AdminApi.KeyHeader"/>. Never logged; the AppHost generates one.</summary>
    [MinLength(16, ErrorMessage = "Gateway:AdminKey must be at least 16 characters long (or unset, which turns the admin endpoints off).")]
    public string? AdminKey { get; set; }

    public bool Enabled => !string.IsNullOrEmpty(AdminKey);
}
