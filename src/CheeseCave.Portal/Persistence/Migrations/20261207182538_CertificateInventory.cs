using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace CheeseCave.Portal.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class CertificateInventory : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "ApprovedBy",
                table: "SetupDevices",
                type: "TEXT",
                maxLength: 512,
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "GrantId",
                table: "SetupDevices",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "Issuer",
                table: "SetupDevices",
                type: "TEXT",
                maxLength: 512,
                nullable: false,
                defaultValue: "");

            migrationBuilder.AddColumn<string>(
                name: "KeyType",
                table: "SetupDevices",
                type: "TEXT",
                maxLength: 32,
                nullable: false,
                defaultValue: "");

            migrationBuilder.AddColumn<int>(
                name: "RenewsDeviceId",
                table: "SetupDevices",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "RequestedBy",
                table: "SetupDevices",
                type: "TEXT",
                maxLength: 256,
                nullable: false,
                defaultValue: "");

            migrationBuilder.AddColumn<string>(
                name: "RevocationReason",
                table: "SetupDevices",
                type: "TEXT",
                maxLength: 512,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "RevokedAt",
                table: "SetupDevices",
                type: "TEXT",
                maxLength: 28,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "RevokedBy",
                table: "SetupDevices",
                type: "TEXT",
                maxLength: 256,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "SerialNumber",
                table: "SetupDevices",
                type: "TEXT",
                maxLength: 64,
                nullable: false,
                defaultValue: "");

            migrationBuilder.AddColumn<string>(
                name: "Source",
                table: "SetupDevices",
                type: "TEXT",
                maxLength: 16,
                nullable: false,
                defaultValue: "");

            migrationBuilder.AddColumn<string>(
                name: "SupersededAt",
                table: "SetupDevices",
                type: "TEXT",
                maxLength: 28,
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "SupersededByDeviceId",
                table: "SetupDevices",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "ApprovedBy",
                table: "SetupCertificates",
                type: "TEXT",
                maxLength: 512,
                nullable: true);

            migrationBuilder.AddColumn<bool>(
                name: "IsImported",
                table: "SetupCertificates",
                type: "INTEGER",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<string>(
                name: "Issuer",
                table: "SetupCertificates",
                type: "TEXT",
                maxLength: 512,
                nullable: false,
                defaultValue: "");

            migrationBuilder.AddColumn<string>(
                name: "KeyType",
                table: "SetupCertificates",
                type: "TEXT",
                maxLength: 32,
                nullable: false,
                defaultValue: "");

            migrationBuilder.AddColumn<string>(
                name: "RetiredAt",
                table: "SetupCertificates",
                type: "TEXT",
                maxLength: 28,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "RetiredBy",
                table: "SetupCertificates",
                type: "TEXT",
                maxLength: 256,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "SerialNumber",
                table: "SetupCertificates",
                type: "TEXT",
                maxLength: 64,
                nullable: false,
                defaultValue: "");

            migrationBuilder.CreateIndex(
                name: "IX_SetupDevices_NotAfter",
                table: "SetupDevices",
                column: "NotAfter");

            migrationBuilder.CreateIndex(
                name: "IX_SetupDevices_ThumbprintSha1",
                table: "SetupDevices",
                column: "ThumbprintSha1");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_SetupDevices_NotAfter",
                table: "SetupDevices");

            migrationBuilder.DropIndex(
                name: "IX_SetupDevices_ThumbprintSha1",
                table: "SetupDevices");

            migrationBuilder.DropColumn(
                name: "ApprovedBy",
                table: "SetupDevices");

            migrationBuilder.DropColumn(
                name: "GrantId",
                table: "SetupDevices");

            migrationBuilder.DropColumn(
                name: "Issuer",
                table: "SetupDevices");

            migrationBuilder.DropColumn(
                name: "KeyType",
                table: "SetupDevices");

            migrationBuilder.DropColumn(
                name: "RenewsDeviceId",
                table: "SetupDevices");

            migrationBuilder.DropColumn(
                name: "RequestedBy",
                table: "SetupDevices");

            migrationBuilder.DropColumn(
                name: "RevocationReason",
                table: "SetupDevices");

            migrationBuilder.DropColumn(
                name: "RevokedAt",
                table: "SetupDevices");

            migrationBuilder.DropColumn(
                name: "RevokedBy",
                table: "SetupDevices");

            migrationBuilder.DropColumn(
                name: "SerialNumber",
                table: "SetupDevices");

            migrationBuilder.DropColumn(
                name: "Source",
                table: "SetupDevices");

            migrationBuilder.DropColumn(
                name: "SupersededAt",
                table: "SetupDevices");

            migrationBuilder.DropColumn(
                name: "SupersededByDeviceId",
                table: "SetupDevices");

            migrationBuilder.DropColumn(
                name: "ApprovedBy",
                table: "SetupCertificates");

            migrationBuilder.DropColumn(
                name: "IsImported",
                table: "SetupCertificates");

            migrationBuilder.DropColumn(
                name: "Issuer",
                table: "SetupCertificates");

            migrationBuilder.DropColumn(
                name: "KeyType",
                table: "SetupCertificates");

            migrationBuilder.DropColumn(
                name: "RetiredAt",
                table: "SetupCertificates");

            migrationBuilder.DropColumn(
                name: "RetiredBy",
                table: "SetupCertificates");

            migrationBuilder.DropColumn(
                name: "SerialNumber",
                table: "SetupCertificates");
        }
    }
}
