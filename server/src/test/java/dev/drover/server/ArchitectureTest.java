package dev.drover.server;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The dependency rules of the codebase, checked on the compiled classes so they cannot rot quietly:
 * the SDK knows nothing of the server; inside the server, transport → engine → store, never back;
 * only the store touches JDBC.
 */
class ArchitectureTest {
    static JavaClasses server;
    static JavaClasses sdk;

    @BeforeAll
    static void importClasses() {
        server = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("dev.drover.server");
        sdk = new ClassFileImporter().importPackages("dev.drover.sdk");
    }

    @Test
    void the_sdk_never_depends_on_the_server() {
        noClasses().that().resideInAPackage("dev.drover.sdk..")
                .should().dependOnClassesThat().resideInAPackage("dev.drover.server..")
                .check(sdk);
    }

    @Test
    void the_sdk_public_api_exposes_no_generated_protocol_types() {
        // Generated types in a public API clash with users' own protobuf versions (a lesson from Temporal).
        java.util.List<String> leaks = new java.util.ArrayList<>();
        for (var c : sdk) {
            if (!c.getPackageName().equals("dev.drover.sdk") || !c.getModifiers().contains(com.tngtech.archunit.core.domain.JavaModifier.PUBLIC)) continue;
            for (var m : c.getMethods()) {
                if (!m.getModifiers().contains(com.tngtech.archunit.core.domain.JavaModifier.PUBLIC)) continue;
                java.util.List<com.tngtech.archunit.core.domain.JavaClass> types = new java.util.ArrayList<>(m.getRawParameterTypes());
                types.add(m.getRawReturnType());
                for (var t : types) if (t.getPackageName().startsWith("dev.drover.proto")) leaks.add(m.getFullName());
            }
        }
        org.assertj.core.api.Assertions.assertThat(leaks).isEmpty();
    }

    @Test
    void the_store_depends_on_neither_engine_nor_transport() {
        noClasses().that().resideInAPackage("dev.drover.server.store..")
                .should().dependOnClassesThat().resideInAnyPackage("dev.drover.server.engine..", "dev.drover.server.transport..")
                .check(server);
    }

    @Test
    void the_engine_never_calls_the_transport() {
        noClasses().that().resideInAPackage("dev.drover.server.engine..")
                .should().dependOnClassesThat().resideInAPackage("dev.drover.server.transport..")
                .check(server);
    }

    @Test
    void the_transport_goes_through_the_engine_not_to_the_store() {
        noClasses().that().resideInAPackage("dev.drover.server.transport..")
                .should().dependOnClassesThat().resideInAPackage("dev.drover.server.store..")
                .check(server);
    }

    @Test
    void only_the_store_touches_jdbc() {
        noClasses().that().resideInAPackage("dev.drover.server..").and().resideOutsideOfPackage("dev.drover.server.store..")
                .should().dependOnClassesThat().resideInAnyPackage("java.sql..", "javax.sql..", "com.zaxxer.hikari..", "org.flywaydb..")
                .check(server);
    }

    @Test
    void the_engine_and_store_do_not_know_about_configuration_sources() {
        noClasses().that().resideInAnyPackage("dev.drover.server.engine..", "dev.drover.server.store..")
                .should().dependOnClassesThat().resideInAPackage("dev.drover.server.config..")
                .check(server);
    }
}
