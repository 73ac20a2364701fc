using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace CheeseCave.Portal.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class EnrollmentGroup : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "EnrollmentGroupId",
                table: "Setups",
                type: "TEXT",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "EnrollmentGroupId",
                table: "Setups");
        }
    }
}
